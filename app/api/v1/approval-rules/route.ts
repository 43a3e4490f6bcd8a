import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listApprovalRules, ({ caller }) => caller.approvals.rules());

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listApprovalRules.path);
