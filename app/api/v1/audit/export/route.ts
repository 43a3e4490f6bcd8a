import { db } from "@/server/db";
import { requirePermission } from "@/server/pipeline/authorise";
import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { audit as writeRestAudit } from "@/server/rest/handler";
import { auditExportResponse } from "@/server/rest/streams";

export const dynamic = "force-dynamic";

/**
 * As the console's /api/audit/export: through the token pipeline (restRoute),
 * needs audit.export; recorded (with the token as actor) before it starts,
 * so it is part of what it covers.
 */
export const GET = endpointRoute(ENDPOINTS.exportAudit, async ({ viewer, query, audit, meta, request, recordSuccess }) => {
  const { format, ...filter } = query;
  audit.params = { format, ...filter };
  requirePermission(viewer, "audit.export");
  const parsed = { ...filter, from: filter.from ? new Date(filter.from) : undefined, to: filter.to ? new Date(filter.to) : undefined };
  await recordSuccess();
  const params = { method: request.method, path: new URL(request.url).pathname, ...audit.params };
  // The success record is written before reading; a database failure mid-stream adds an error record.
  return auditExportResponse(db(), parsed, format, async (e) => {
    console.error(`[berth] api ${ENDPOINTS.exportAudit.action} (request ${meta.requestId}) failed mid-stream:`, e instanceof Error ? e.message : e);
    await writeRestAudit(meta, {
      actor: viewer.actor,
      action: ENDPOINTS.exportAudit.action,
      outcome: "error",
      params,
      errorMessage: "the export broke off: reading the audit log failed mid-stream",
    });
  });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.exportAudit.path);
