import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

const scopeOf = (path: { scope: "host" | "hostGroup"; scopeId: string }) => (path.scope === "host" ? { hostId: path.scopeId } : { hostGroupId: path.scopeId });

export const PUT = endpointRoute(ENDPOINTS.putApprovalRule, ({ caller, path, body, audit }) => {
  audit.target = { type: path.scope, id: path.scopeId };
  if (path.scope === "host") audit.hostId = path.scopeId;
  return caller.approvals.setRule({ ...scopeOf(path), expiryHours: body.expiryHours });
});

export const DELETE = endpointRoute(ENDPOINTS.deleteApprovalRule, ({ caller, path, audit }) => {
  audit.target = { type: path.scope, id: path.scopeId };
  if (path.scope === "host") audit.hostId = path.scopeId;
  return caller.approvals.removeRule(scopeOf(path));
});

export const { GET, POST, PATCH } = otherMethods(ENDPOINTS.putApprovalRule.path);
