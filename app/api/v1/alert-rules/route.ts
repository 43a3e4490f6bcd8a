import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listAlertRules, ({ caller }) => caller.alerts.rules());

export const POST = endpointRoute(ENDPOINTS.createAlertRule, async ({ caller, body, audit }) => {
  const rule = await caller.alerts.createRule(body);
  audit.target = { type: "alertRule", id: rule.id };
  return rule;
});

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listAlertRules.path);
