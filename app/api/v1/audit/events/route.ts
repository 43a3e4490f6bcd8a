import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** audit.list: filters and keyset cursors, newest first. */
export const GET = endpointRoute(ENDPOINTS.queryAudit, ({ caller, query }) => caller.audit.list(query));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.queryAudit.path);
