import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listApprovals, ({ caller, query }) => caller.approvals.list(query));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listApprovals.path);
