import { describe, expect, it } from "vitest";
import { BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, backoffSeconds, previousDelay, RETRY_AFTER_CAP_SECONDS } from "../../../server/watch/backoff";

describe("registry backoff", () => {
  it("a first error waits the base; each further error in a row doubles it, up to the cap", () => {
    let delay: number | null = null;
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      delay = backoffSeconds({ retryAfterSeconds: null, previousDelaySeconds: delay });
      seen.push(delay);
    }
    expect(seen.slice(0, 4)).toEqual([BACKOFF_BASE_SECONDS, BACKOFF_BASE_SECONDS * 2, BACKOFF_BASE_SECONDS * 4, BACKOFF_BASE_SECONDS * 8]);
    expect(Math.max(...seen)).toBe(BACKOFF_CAP_SECONDS);
    expect(seen.at(-1)).toBe(BACKOFF_CAP_SECONDS);
  });

  it("a 429's Retry-After is obeyed, but capped", () => {
    expect(backoffSeconds({ retryAfterSeconds: 120, previousDelaySeconds: null })).toBe(120);
    expect(backoffSeconds({ retryAfterSeconds: 10 ** 9, previousDelaySeconds: null })).toBe(RETRY_AFTER_CAP_SECONDS);
  });

  it("the previous delay is read back from the stored row only after a failure", () => {
    const checkedAt = new Date("2026-12-07T00:00:00Z");
    expect(previousDelay({ checkedAt, retryAfter: new Date("2026-12-07T00:02:00Z"), error: "429" })).toBe(120);
    expect(previousDelay({ checkedAt, retryAfter: null, error: null })).toBeNull();
    expect(previousDelay({ checkedAt, retryAfter: new Date("2026-12-07T00:02:00Z"), error: null })).toBeNull();
    expect(previousDelay(null)).toBeNull();
  });
});
