import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DIFF_MAX_CELLS, diffLines, renderModel } from "@/lib/compose/render";
import { load } from "./helpers";

const compose = (tag: string) => `services:
  web:
    image: nginx:${tag}
    environment: {B: "2", A: "1"}
    secrets: [db]
secrets:
  db: {external: true, name: prod-db-password}
`;

describe("renderModel", () => {
  it("is YAML of the model with keys sorted, stable for equal models", () => {
    const model = load(compose("1.27"));
    const text = renderModel(model);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(model)));
    expect(renderModel(load(compose("1.27")))).toBe(text);
    const keys = Object.keys(parse(text) as object);
    expect(keys).toEqual([...keys].sort());
  });

  it("names secrets only by their Berth secret", () => {
    const text = renderModel(load(compose("1.27")));
    expect(text).toContain("berthSecret: prod-db-password");
    expect(text).toMatch(/secrets:\n\s+- mode: 292\n\s+source: db\n\s+target: db/);
  });
});

describe("diffLines", () => {
  it("marks added, removed and unchanged lines with their line numbers", () => {
    expect(diffLines("a\nb\nc\n", "a\nx\nc\nd\n")).toEqual([
      { kind: "same", text: "a", oldLine: 1, newLine: 1 },
      { kind: "removed", text: "b", oldLine: 2, newLine: null },
      { kind: "added", text: "x", oldLine: null, newLine: 2 },
      { kind: "same", text: "c", oldLine: 3, newLine: 3 },
      { kind: "added", text: "d", oldLine: null, newLine: 4 },
    ]);
  });

  it("finds the longest common subsequence", () => {
    const d = diffLines("a\nb\nc\nd\ne", "b\nc\nx\ne\nf");
    expect(d.filter((l) => l.kind === "same").map((l) => l.text)).toEqual(["b", "c", "e"]);
    expect(d.filter((l) => l.kind === "removed").map((l) => l.text)).toEqual(["a", "d"]);
    expect(d.filter((l) => l.kind === "added").map((l) => l.text)).toEqual(["x", "f"]);
  });

  it("handles empty texts and identical texts", () => {
    expect(diffLines("", "")).toEqual([]);
    expect(diffLines("", "a")).toEqual([{ kind: "added", text: "a", oldLine: null, newLine: 1 }]);
    expect(diffLines("a\r\nb", "a\nb").every((l) => l.kind === "same")).toBe(true);
  });

  it("between two versions of a stack shows the changed image", () => {
    const d = diffLines(renderModel(load(compose("1.25"))), renderModel(load(compose("1.27"))));
    expect(d.filter((l) => l.kind !== "same").map((l) => `${l.kind} ${l.text.trim()}`)).toEqual(["removed image: nginx:1.25", "added image: nginx:1.27"]);
  });

  it("is bounded: beyond the cell limit the middle is removed-then-added, still complete", () => {
    const a = Array.from({ length: 50 }, (_, i) => `a${i}`).join("\n");
    const b = Array.from({ length: 50 }, (_, i) => `b${i}`).join("\n");
    const d = diffLines(`head\n${a}\ntail`, `head\n${b}\ntail`, 100);
    expect(d.map((l) => l.kind)).toEqual(["same", ...Array(50).fill("removed"), ...Array(50).fill("added"), "same"]);
    expect(DIFF_MAX_CELLS).toBeGreaterThan(1_000_000);
  });
});
