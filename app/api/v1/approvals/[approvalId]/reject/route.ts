import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.rejectApproval, ({ caller, path, body, audit }) => {
  audit.target = { type: "approval", id: path.approvalId };
  return caller.approvals.reject({ id: path.approvalId, comment: body.comment });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.rejectApproval.path);
