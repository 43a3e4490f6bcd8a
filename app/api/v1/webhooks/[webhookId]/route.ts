import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const DELETE = endpointRoute(ENDPOINTS.revokeWebhook, async ({ caller, path, audit }) => {
  audit.target = { type: "webhook", id: path.webhookId };
  return caller.webhooks.revoke({ id: path.webhookId });
});

export const { GET, POST, PUT, PATCH } = otherMethods(ENDPOINTS.revokeWebhook.path);
