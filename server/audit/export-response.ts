import "server-only";
import { requestMetaFrom } from "../auth/request-meta";
import { getViewer } from "../auth/viewer";
import { db } from "../db";
import { toAppError } from "../errors";
import { HTTP_STATUS } from "../http/status";
import { admitSession } from "../pipeline/admission";
import type { ExportFormat } from "./export";
import { auditExportResponse } from "./export-stream";
import { auditFilterSchema } from "./query";

// The console's audit export: the gateway's pipeline with a session-
// authenticated viewer (authorise: audit.export; audit: the export on record
// before it reads). Its REST twin is app/api/v1/audit/export (token pipeline).

const log = (line: string) => console.error(`[berth] audit export: ${line}`);

/** GET /api/audit/export?format=csv|ndjson&<filters>: streams the matching events, oldest first. */
export async function exportAudit(req: Request): Promise<Response> {
  const meta = requestMetaFrom(req.headers);
  const caller = admitSession(await getViewer(), meta, { db, log });
  const url = new URL(req.url);
  const query = Object.fromEntries([...url.searchParams].filter(([, v]) => v !== ""));
  const format: ExportFormat = query.format === "ndjson" ? "ndjson" : "csv";
  const denial = { action: "audit.export", params: { format, ...query } };

  let filter;
  try {
    if (!caller.viewer) throw await caller.deny("UNAUTHORIZED", "Sign in first.", { ...denial, errorMessage: "not signed in" });
    await caller.authorise({ permissions: ["audit.export"], message: () => "You need the audit.export permission.", denial: { ...denial, errorMessage: "missing audit.export" } });
    const parsed = auditFilterSchema.safeParse(query);
    if (!parsed.success) throw await caller.deny("BAD_REQUEST", parsed.error.message, { ...denial, outcome: "error" });
    filter = parsed.data;
  } catch (e) {
    const refused = toAppError(e, { requestId: meta.requestId, log });
    if (!refused) throw e;
    return Response.json({ error: { code: refused.code, message: refused.message } }, { status: HTTP_STATUS[refused.code] });
  }

  // The export is recorded before it starts, so it is part of what it covers if the range includes now;
  // if that record can't be written, nothing is handed out.
  const trail = caller.trail("audit.export");
  trail.note.params = denial.params;
  await trail.outcome("success", null);
  // A database failure mid-stream breaks the download off and adds an error record.
  return auditExportResponse(db(), filter, format, async (e) => {
    log(`request ${meta.requestId} failed mid-stream: ${e instanceof Error ? e.message : String(e)}`);
    await caller.record({ ...denial, outcome: "error", errorMessage: "the export broke off: reading the audit log failed mid-stream" });
  });
}
