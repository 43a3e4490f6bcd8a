import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../../server/pipeline/rate-limit";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("per-key rate limiting (token buckets)", () => {
  it("allows a burst, then refuses with a Retry-After, and refills at the rate", () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 20, burst: 40, now: c.now });
    for (let i = 0; i < 40; i++) expect(limiter.take("a").ok).toBe(true);
    const refused = limiter.take("a");
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    // Other keys have their own buckets.
    expect(limiter.take("b").ok).toBe(true);
    c.advance(100); // 2 more
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
    c.advance(60_000);
    for (let i = 0; i < 40; i++) expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
  });

  it("Retry-After covers the wait for one request at slow rates", () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 0.25, burst: 1, now: c.now });
    expect(limiter.take("k").ok).toBe(true);
    expect(limiter.take("k")).toMatchObject({ ok: false, retryAfterSeconds: 4 });
  });

  it("reports refusals once per interval, with the count since the last report", () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, reportEveryMs: 1000, now: c.now });
    limiter.take("k");
    const first = limiter.take("k");
    expect(first.ok === false && first.report).toEqual({ refused: 1 });
    for (let i = 0; i < 5; i++) {
      const r = limiter.take("k");
      expect(r.ok === false && r.report).toBe(null);
    }
    c.advance(1000); // one request refills and is spent
    expect(limiter.take("k").ok).toBe(true);
    const next = limiter.take("k");
    expect(next.ok === false && next.report).toEqual({ refused: 6 });
  });

  it("keeps at most maxKeys buckets, dropping idle ones first", () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2, maxKeys: 3, now: c.now });
    limiter.take("busy");
    limiter.take("busy");
    limiter.take("idle1");
    limiter.take("idle2");
    c.advance(5_000); // idle ones are full again; busy too, but refill is computed lazily
    limiter.take("busy");
    limiter.take("busy");
    limiter.take("new");
    // "busy" was just drained and must still be limited.
    expect(limiter.take("busy").ok).toBe(false);
  });
});
