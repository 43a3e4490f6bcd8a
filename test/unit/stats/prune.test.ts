import { describe, expect, it } from "vitest";
import { pruneSamples } from "@/server/stats/store";

// The pruning's bounds, against a stand-in that records each DELETE and
// answers how many rows it removed.

function fakeDb(answers: number[]) {
  const calls: { sql: string; values: unknown[] }[] = [];
  return {
    calls,
    db: {
      $executeRaw: (strings: TemplateStringsArray, ...values: unknown[]) => {
        calls.push({ sql: strings.join("?"), values });
        return Promise.resolve(answers.shift() ?? 0);
      },
    } as never,
  };
}

describe("pruneSamples", () => {
  const now = new Date("2026-12-07T04:00:00Z");

  it("deletes rows strictly older than 24 h, in batches of the given size, oldest first", async () => {
    const { db, calls } = fakeDb([3]);
    expect(await pruneSamples(db, now, { batch: 10 })).toBe(3);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.sql).toMatch(/DELETE FROM "StatSample" WHERE "id" IN \(SELECT "id" FROM "StatSample" WHERE "at" < \? ORDER BY "at" LIMIT \?\)/);
    expect(calls[0]!.values).toEqual([new Date("2026-12-06T04:00:00Z"), 10]);
  });

  it("goes on while batches come back full, and stops after maxBatches", async () => {
    const full = fakeDb([10, 10, 4]);
    expect(await pruneSamples(full.db, now, { batch: 10 })).toBe(24);
    expect(full.calls).toHaveLength(3);

    const endless = fakeDb(Array(100).fill(10));
    expect(await pruneSamples(endless.db, now, { batch: 10, maxBatches: 5 })).toBe(50);
    expect(endless.calls).toHaveLength(5);
  });
});
