// A stack model as YAML for versions and diffs (stable key order; secrets by
// the Berth secret's name only — a model never holds a value), and a line diff
// between two texts for the versions page.

import { stringify } from "yaml";
import type { StackModel } from "./model";

/** YAML of the model, keys sorted at every level so equal models render equally. */
export function renderModel(model: StackModel): string {
  return stringify(model, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
}

export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
  /** 1-based line in the old text (null for an added line). */
  oldLine: number | null;
  /** 1-based line in the new text (null for a removed line). */
  newLine: number | null;
}

/** Above this many LCS cells the changed middle is shown as removed-then-added (bounded work in the browser). */
export const DIFF_MAX_CELLS = 4_000_000;

/** A line diff (longest common subsequence over the part between the common head and tail). */
export function diffLines(oldText: string, newText: string, maxCells = DIFF_MAX_CELLS): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: "same", text: a[i]!, oldLine: i + 1, newLine: i + 1 });
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const n = am.length;
  const m = bm.length;
  if (n * m > maxCells) {
    am.forEach((text, i) => out.push({ kind: "removed", text, oldLine: head + i + 1, newLine: null }));
    bm.forEach((text, j) => out.push({ kind: "added", text, oldLine: null, newLine: head + j + 1 }));
  } else {
    // lcs[i][j]: the LCS length of am[i..] and bm[j..], in one flat array.
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] = am[i] === bm[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        out.push({ kind: "same", text: am[i]!, oldLine: head + i + 1, newLine: head + j + 1 });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
        // Removals before additions, as diffs usually read.
        out.push({ kind: "removed", text: am[i]!, oldLine: head + i + 1, newLine: null });
        i++;
      } else {
        out.push({ kind: "added", text: bm[j]!, oldLine: null, newLine: head + j + 1 });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++) {
    const ai = a.length - tail + k;
    const bi = b.length - tail + k;
    out.push({ kind: "same", text: a[ai]!, oldLine: ai + 1, newLine: bi + 1 });
  }
  return out;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
