// A line diff of two texts (a stack's files between two versions), as the
// versions page shows it: lib/compose/render.ts's diffLines (the one LCS over
// lines, bounded), each line carrying only the line numbers it has.

import { diffLines as diffTexts } from "../../lib/compose/render";

export type DiffLine =
  | { kind: "same"; text: string; oldLine: number; newLine: number }
  | { kind: "removed"; text: string; oldLine: number }
  | { kind: "added"; text: string; newLine: number };

export function diffLines(before: string, after: string): DiffLine[] {
  return diffTexts(before, after).map((d): DiffLine => {
    if (d.kind === "removed") return { kind: "removed", text: d.text, oldLine: d.oldLine! };
    if (d.kind === "added") return { kind: "added", text: d.text, newLine: d.newLine! };
    return { kind: "same", text: d.text, oldLine: d.oldLine!, newLine: d.newLine! };
  });
}

/** Whether anything changed. */
export function hasChanges(diff: DiffLine[]): boolean {
  return diff.some((d) => d.kind !== "same");
}

/**
 * The changed lines with `context` unchanged lines around each change; runs of
 * unchanged lines between are replaced by one "skip" marker with their count.
 */
export function withContext(diff: DiffLine[], context = 3): (DiffLine | { kind: "skip"; count: number })[] {
  const keep = new Array<boolean>(diff.length).fill(false);
  diff.forEach((d, i) => {
    if (d.kind === "same") return;
    for (let k = Math.max(0, i - context); k <= Math.min(diff.length - 1, i + context); k++) keep[k] = true;
  });
  const out: (DiffLine | { kind: "skip"; count: number })[] = [];
  let skipped = 0;
  diff.forEach((d, i) => {
    if (keep[i]) {
      if (skipped) out.push({ kind: "skip", count: skipped });
      skipped = 0;
      out.push(d);
    } else skipped++;
  });
  if (skipped) out.push({ kind: "skip", count: skipped });
  return out;
}
