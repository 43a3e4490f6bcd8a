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

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = typeof value === "string" ? value : JSON.stringify(value);
  // Cells that a spreadsheet would run as a formula are prefixed with a quote.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvHeader(): string {
  return COLUMNS.join(",") + "\r\n";
}

export function formatRow(row: AuditRow, format: ExportFormat): string {
  const p = plain(row);
  if (format === "ndjson") return JSON.stringify(p) + "\n";
  return COLUMNS.map((c) => csvCell(p[c])).join(",") + "\r\n";
}
