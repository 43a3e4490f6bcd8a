import "server-only";
import { hasPermission } from "../auth/access";
import { requestMetaFrom } from "../auth/request-meta";
import { getViewer } from "../auth/viewer";
import { db } from "../db";
import type { ExportFormat } from "./export";
import { auditExportResponse } from "./export-stream";
import { auditFilterSchema } from "./query";
import { writeAudit } from "./write";

/** GET /api/audit/export?format=csv|ndjson&<filters>: streams the matching events, oldest first. */
export async function exportAudit(req: Request): Promise<Response> {
  const meta = requestMetaFrom(req.headers);
  const viewer = await getViewer();
  const url = new URL(req.url);
  const query = Object.fromEntries([...url.searchParams].filter(([, v]) => v !== ""));
  const format: ExportFormat = query.format === "ndjson" ? "ndjson" : "csv";
  const actor = viewer
    ? { type: "user" as const, id: viewer.user.id, label: viewer.user.email }
    : { type: "anonymous" as const };
  const parsed = auditFilterSchema.safeParse(query);

  const record = (outcome: "success" | "denied" | "error", errorMessage: string | null) =>
    writeAudit(db(), { actor, action: "audit.export", outcome, params: { format, ...query }, errorMessage, request: meta });

  if (!viewer) {
    await record("denied", "not signed in");
    return Response.json({ error: { code: "UNAUTHORIZED", message: "Sign in first." } }, { status: 401 });
  }
  if (!hasPermission(viewer, "audit.export")) {
    await record("denied", "missing audit.export");
    return Response.json(
      { error: { code: "FORBIDDEN", message: "You need the audit.export permission." } },
      { status: 403 },
    );
  }
  if (!parsed.success) {
    await record("error", parsed.error.message);
    return Response.json({ error: { code: "BAD_REQUEST", message: parsed.error.message } }, { status: 400 });
  }
  // The export is recorded before it starts, so it is part of what it covers if the range includes now.
  await record("success", null);

  return auditExportResponse(db(), parsed.data, format);
}
