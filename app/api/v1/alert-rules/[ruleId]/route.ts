import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { AppError } from "@/server/errors";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.getAlertRule, async ({ caller, path }) => {
  const rule = (await caller.alerts.rules()).find((r) => r.id === path.ruleId);
  if (!rule) throw new AppError("NOT_FOUND", "No such alert rule.");
  return rule;
});

export const PUT = endpointRoute(ENDPOINTS.updateAlertRule, ({ caller, path, body, audit }) => {
  audit.target = { type: "alertRule", id: path.ruleId };
  return caller.alerts.updateRule({ ...body, id: path.ruleId });
});

export const DELETE = endpointRoute(ENDPOINTS.deleteAlertRule, ({ caller, path, audit }) => {
  audit.target = { type: "alertRule", id: path.ruleId };
  return caller.alerts.removeRule({ id: path.ruleId });
});

export const { POST, PATCH } = otherMethods(ENDPOINTS.getAlertRule.path);
