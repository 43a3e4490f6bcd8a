import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.getApproval, ({ caller, path }) => caller.approvals.get({ id: path.approvalId }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.getApproval.path);
