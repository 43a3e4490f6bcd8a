import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.approveApproval, ({ caller, path, body, audit }) => {
  audit.target = { type: "approval", id: path.approvalId };
  return caller.approvals.approve({ id: path.approvalId, comment: body.comment, runAt: body.runAt ? new Date(body.runAt) : null });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.approveApproval.path);
