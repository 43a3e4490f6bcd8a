import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../server/fleet/backoff";

const max = () => 1;
const min = () => 0;

describe("fleet/backoff", () => {
  it("doubles from the base with each attempt", () => {
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, 100, 1_000_000, max))).toEqual([100, 200, 400, 800, 1600]);
  });

  it("is capped at maxMs", () => {
    expect(backoffDelay(10, 100, 5000, max)).toBe(5000);
    expect(backoffDelay(10, 100, 5000, min)).toBe(2500);
    // Huge attempt counts stay finite and capped.
    expect(backoffDelay(10_000, 100, 30_000, max)).toBe(30_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, 100, 30_000, max)).toBe(30_000);
  });

  it("jitters between 50% and 100% of the step", () => {
    expect(backoffDelay(3, 100, 1_000_000, min)).toBe(400);
    expect(backoffDelay(3, 100, 1_000_000, max)).toBe(800);
    expect(backoffDelay(3, 100, 1_000_000, () => 0.5)).toBe(600);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(i % 8, 250, 10_000);
      const step = Math.min(10_000, 250 * 2 ** (i % 8));
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });

  it("returns whole milliseconds", () => {
    expect(Number.isInteger(backoffDelay(1, 3, 1000, () => 0.3333))).toBe(true);
  });
});
