import { describe, expect, it } from "vitest";
import { diffLines, hasChanges, withContext } from "../../../components/stacks/line-diff";

/** The diff as "+x" / "-x" / " x" lines, the way a reader sees it. */
const show = (before: string, after: string) => diffLines(before, after).map((d) => (d.kind === "added" ? "+" : d.kind === "removed" ? "-" : " ") + d.text);

describe("line diff of stack files", () => {
  it("shows one changed line between unchanged ones, with both line numbers", () => {
    const before = "services:\n  web:\n    environment:\n      A: 1\n    image: x\n";
    const after = "services:\n  web:\n    environment:\n      A: 2\n    image: x\n";
    expect(show(before, after)).toEqual(["services:", "  web:", "    environment:", "-      A: 1", "+      A: 2", "    image: x"].map((l) => (/^[+-]/.test(l) ? l : ` ${l}`)));
    const d = diffLines(before, after);
    expect(d[3]).toEqual({ kind: "removed", text: "      A: 1", oldLine: 4 });
    expect(d[4]).toEqual({ kind: "added", text: "      A: 2", newLine: 4 });
    expect(d[5]).toEqual({ kind: "same", text: "    image: x", oldLine: 5, newLine: 5 });
  });

  it("handles added and removed files (one side empty) and identical texts", () => {
    expect(show("", "a\nb\n")).toEqual(["+a", "+b"]);
    expect(show("a\nb", "")).toEqual(["-a", "-b"]);
    expect(hasChanges(diffLines("a\nb\n", "a\nb"))).toBe(false);
  });

  it("finds insertions in the middle without marking the rest as changed", () => {
    expect(show("a\nb\nc\nd", "a\nb\nx\nc\nd\ny")).toEqual([" a", " b", "+x", " c", " d", "+y"]);
    expect(show("a\nb\nc", "c\nb\na").filter((l) => l.startsWith(" ")).length).toBe(1);
  });

  it("folds long unchanged runs into a count, keeping context around changes", () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n");
    const after = before.replace("l10", "L10");
    const folded = withContext(diffLines(before, after), 2);
    expect(folded[0]).toEqual({ kind: "skip", count: 8 });
    expect(folded.filter((d) => d.kind !== "skip").map((d) => (d as { text: string }).text)).toEqual(["l8", "l9", "l10", "L10", "l11", "l12"]);
    expect(folded[folded.length - 1]).toEqual({ kind: "skip", count: 7 });
  });
});
