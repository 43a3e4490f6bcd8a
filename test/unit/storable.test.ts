import { describe, expect, it } from "vitest";
import { storableJson, storableText, unstorableTextProblem } from "../../lib/storable-text";
import { storableWriteArgs } from "../../server/database/storable-writes";

describe("what Postgres can store", () => {
  it("finds NUL and unpaired surrogates, and leaves pairs (emoji) alone", () => {
    expect(unstorableTextProblem("plain")).toBeNull();
    expect(unstorableTextProblem("pair 😀")).toBeNull();
    expect(unstorableTextProblem("a\u0000b")).toMatch(/NUL/);
    expect(unstorableTextProblem("\uD800")).toMatch(/unpaired/);
    expect(unstorableTextProblem("x\uDC00y")).toMatch(/unpaired/);
    expect(unstorableTextProblem("\uDBFF\uDFFF")).toBeNull();
  });

  it("cleans text and JSON (keys too), idempotently", () => {
    expect(storableText("a\u0000b\uD800c😀")).toBe("ab\uFFFDc😀");
    const dirty = { "k\u0000": ["v\uDC00", { deep: "\u0000" }], ok: 1, n: null };
    const clean = storableJson(dirty);
    expect(clean).toEqual({ k: ["v\uFFFD", { deep: "" }], ok: 1, n: null });
    expect(storableJson(clean)).toEqual(clean);
  });

  it("keeps both of two keys that become equal", () => {
    expect(storableJson({ ab: 1, "a\u0000b": 2 })).toEqual({ ab: 1, "a\\u0000b": 2 });
    expect(storableJson({ "a\u0000b": 2, ab: 1 })).toEqual({ ab: 1, "a\\u0000b": 2 });
  });

  it("cleans only the JSON fields of writes", () => {
    const args = { where: { id: "x\u0000" }, data: { spec: { "l\u0000": "v" }, name: "n\u0000" } };
    expect(storableWriteArgs("Deployment", "update", args)).toEqual({ where: { id: "x\u0000" }, data: { spec: { l: "v" }, name: "n\u0000" } });
    expect(storableWriteArgs("Deployment", "findMany", args)).toBe(args);
    expect(storableWriteArgs("User", "create", args)).toBe(args);
    expect(storableWriteArgs("Host", "upsert", { create: { facts: { a: "\uD800" } }, update: { facts: { b: "\u0000" } } })).toEqual({
      create: { facts: { a: "\uFFFD" } },
      update: { facts: { b: "" } },
    });
    expect(storableWriteArgs("AuditEvent", "createMany", { data: [{ params: { "\u0000": 1 } }] })).toEqual({ data: [{ params: { "": 1 } }] });
  });
});
