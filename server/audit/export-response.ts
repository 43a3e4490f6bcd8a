import "server-only";
import { hasPermission } from "../auth/access";
import { requestMetaFrom } from "../auth/request-meta";
import { getViewer } from "../auth/viewer";
import { db } from "../db";
import { csvHeader, formatRow, type ExportFormat } from "./export";
import { auditFilterSchema, iterateAudit } from "./query";
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

  const rows = iterateAudit(db(), parsed.data);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (format === "csv") controller.enqueue(encoder.encode(csvHeader()));
    },
    async pull(controller) {
      const next = await rows.next();
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
