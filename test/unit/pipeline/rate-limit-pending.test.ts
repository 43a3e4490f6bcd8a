import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimiter } from "../../../server/pipeline/rate-limit";

// Refusals counted after a report are reported later even when the client stops sending.

describe("rate limiter: pending refusals are reported", () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it("the refusals after the first report are handed over once the report interval has passed, with the last note", () => {
    const reports: { key: string; refused: number; note: unknown }[] = [];
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, reportEveryMs: 1000, onPendingReport: (key, r, note) => reports.push({ key, refused: r.refused, note }) });
    expect(limiter.take("k", "n0").ok).toBe(true);
    const first = limiter.take("k", "n1");
    expect(first).toMatchObject({ ok: false, report: { refused: 1 } });
    for (let i = 2; i <= 5; i++) expect(limiter.take("k", `n${i}`)).toMatchObject({ ok: false, report: null });
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(reports).toEqual([{ key: "k", refused: 4, note: "n5" }]);
    // Nothing more pending: no further report.
    vi.advanceTimersByTime(10_000);
    expect(reports).toHaveLength(1);
  });

  it("a refusal that is reported at once leaves nothing pending", () => {
    const reports: number[] = [];
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, reportEveryMs: 1000, onPendingReport: (_k, r) => reports.push(r.refused) });
    limiter.take("k");
    expect(limiter.take("k")).toMatchObject({ ok: false, report: { refused: 1 } });
    vi.advanceTimersByTime(5000);
    expect(reports).toEqual([]);
  });

  it("every refusal is accounted for exactly once across reports, timers and flushPending", () => {
    let reported = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 2, reportEveryMs: 1000, onPendingReport: (_k, r) => (reported += r.refused) });
    let refused = 0;
    for (let step = 0; step < 50; step++) {
      for (let i = 0; i < 5; i++) {
        const d = limiter.take("k");
        if (!d.ok) {
          refused++;
          if (d.report) reported += d.report.refused;
        }
      }
      vi.advanceTimersByTime(step % 3 === 0 ? 1500 : 300);
    }
    limiter.flushPending();
    expect(refused).toBeGreaterThan(0);
    expect(reported).toBe(refused);
  });

  it("without onPendingReport it behaves as before (no timers)", () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, reportEveryMs: 1000 });
    limiter.take("k");
    limiter.take("k");
    limiter.take("k");
    expect(vi.getTimerCount()).toBe(0);
  });
});
