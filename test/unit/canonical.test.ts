import { describe, expect, it } from "vitest";
import { canonicalJson, GENESIS_HASH, hashEvent, type HashedFields } from "../../server/audit/canonical";

const base: HashedFields = {
  id: 1n,
  createdAt: new Date("2026-11-23T10:00:00.123Z"),
  actorType: "user",
  actorId: "u1",
  actorLabel: "a@example.test",
  sourceIp: "127.0.0.1",
  userAgent: "ua",
  action: "users.create",
  targetType: "user",
  targetId: "u2",
  hostId: null,
  params: { b: 1, a: { d: [1, 2], c: "x" } },
  outcome: "success",
  errorMessage: null,
  requestId: "r1",
  prevHash: GENESIS_HASH,
};

describe("canonical encoding and event hash", () => {
  it("sorts keys at every level, so equal values encode equally", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: "x" } })).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    expect(canonicalJson({ a: { c: "x", d: [1, 2] }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: [1, 2], c: "x" } }));
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
    expect(canonicalJson(Number.NaN)).toBe("null");
  });

  it("is a stable SHA-256 that changes with any covered field", () => {
    const h = hashEvent(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEvent({ ...base, params: { a: { c: "x", d: [1, 2] }, b: 1 } })).toBe(h);
    for (const change of [
      { id: 2n },
      { createdAt: new Date("2026-11-23T10:00:00.124Z") },
      { outcome: "denied" },
      { actorId: null },
      { params: { b: 2, a: { d: [1, 2], c: "x" } } },
      { prevHash: "f".repeat(64) },
      { errorMessage: "" },
    ] as Partial<HashedFields>[]) {
      expect(hashEvent({ ...base, ...change }), JSON.stringify(change, (_, v) => (typeof v === "bigint" ? `${v}` : v))).not.toBe(h);
    }
  });
});
