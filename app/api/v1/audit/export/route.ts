import { hasPermission } from "@/server/auth/access";
import { db } from "@/server/db";
import { AppError } from "@/server/errors";
import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { auditExportResponse } from "@/server/rest/streams";

export const dynamic = "force-dynamic";

/**
 * As the console's /api/audit/export: needs audit.export; recorded (with the
 * token as actor) before it starts, so it is part of what it covers.
 */
export const GET = endpointRoute(ENDPOINTS.exportAudit, async ({ viewer, query, audit, recordSuccess }) => {
  const { format, ...filter } = query;
  audit.params = { format, ...filter };
  if (!hasPermission(viewer, "audit.export")) throw new AppError("FORBIDDEN", "You need the audit.export permission.");
  const parsed = { ...filter, from: filter.from ? new Date(filter.from) : undefined, to: filter.to ? new Date(filter.to) : undefined };
  await recordSuccess();
  return auditExportResponse(db(), parsed, format);
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.exportAudit.path);
