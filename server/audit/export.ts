import "server-only";
import type { AuditRow } from "./query";

export type ExportFormat = "csv" | "ndjson";

const COLUMNS = [
  "id",
  "createdAt",
  "actorType",
  "actorId",
  "actorLabel",
  "sourceIp",
  "userAgent",
  "action",
  "targetType",
  "targetId",
  "hostId",
  "params",
  "outcome",
  "errorMessage",
  "requestId",
  "prevHash",
  "hash",
] as const satisfies readonly (keyof AuditRow)[];

function plain(row: AuditRow): Record<(typeof COLUMNS)[number], unknown> {
  return { ...row, id: row.id.toString(), createdAt: row.createdAt.toISOString() };
}

// CSV injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts
// with = + - @ (or their full-width forms), or with a tab or CR, as a formula.
// Which characters split a line into cells depends on the reader's locale
// (Excel: "," in en-US, ";" in de-DE, also tab and "|"), and a reader that
// splits on another character than ours starts a cell anywhere after one of
// those, quoted or not. So the same rule applies to every place a cell could
// start: the beginning, and after any separator or line break (past spaces and
// quotes). A quote (') goes in front of the formula character there, which
// spreadsheets show as text. NDJSON keeps exact values.
const SEPARATORS = new Set([",", ";", "\t", "|", "\r", "\n"]);
const FORMULA = new Set(["=", "+", "-", "@", "\t", "\r", "\uFF1D", "\uFF0B", "\uFF0D", "\uFF20"]);

/** The text with a quote before every formula character that could start a cell, whatever the separator. */
function defuseFormulas(text: string): string {
  let out = "";
  let atCellStart = true;
  for (const ch of text) {
    if (atCellStart && ch !== " " && ch !== '"') {
      if (FORMULA.has(ch)) out += "'";
      atCellStart = false;
    }
    out += ch;
    if (SEPARATORS.has(ch)) atCellStart = true;
  }
  return out;
}

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const defused = defuseFormulas(typeof value === "string" ? value : JSON.stringify(value));
  // Quoted whenever it holds a quote or any character some locale splits on.
  return /["\r\n,;\t|]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

export function csvHeader(): string {
  return COLUMNS.join(",") + "\r\n";
}

export function formatRow(row: AuditRow, format: ExportFormat): string {
  const p = plain(row);
  if (format === "ndjson") return JSON.stringify(p) + "\n";
  return COLUMNS.map((c) => csvCell(p[c])).join(",") + "\r\n";
}
