import "server-only";
import type { Db } from "../db";
import { csvHeader, formatRow, type ExportFormat } from "./export";
import { iterateAudit, type AuditFilter } from "./query";

// The audit export as a streamed download, for the console (/api/audit/export)
// and the REST API (/api/v1/audit/export).

/**
 * The matching audit events, oldest first, as an attachment. If reading fails
 * mid-stream (the headers are sent by then) the stream is broken off, so the
 * client sees a truncated download rather than a complete-looking one, and
 * `onError` is told (to log and audit it).
 */
export function auditExportResponse(db: Db, filter: AuditFilter, format: ExportFormat, onError?: (e: unknown) => void | Promise<void>): Response {
  const rows = iterateAudit(db, filter);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (format === "csv") controller.enqueue(encoder.encode(csvHeader()));
    },
    async pull(controller) {
      let next: IteratorResult<Parameters<typeof formatRow>[0]>;
      try {
        next = await rows.next();
      } catch (e) {
        try {
          await onError?.(e);
        } finally {
          controller.error(e);
        }
        return;
      }
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(formatRow(next.value, format)));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return new Response(body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="berth-audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
}
