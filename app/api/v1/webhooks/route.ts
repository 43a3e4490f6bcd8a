import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { AppError } from "@/server/errors";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listWebhooks, ({ caller, query }) => {
  if (query.deploymentId && query.stackId) throw new AppError("BAD_REQUEST", "Give deploymentId or stackId, not both.");
  if (query.deploymentId) return caller.webhooks.list({ deploymentId: query.deploymentId });
  if (query.stackId) return caller.webhooks.list({ stackId: query.stackId });
  throw new AppError("BAD_REQUEST", "Give deploymentId or stackId.");
});

export const POST = endpointRoute(ENDPOINTS.createWebhook, async ({ caller, body, audit }) => {
  const created = await caller.webhooks.create(body);
  audit.target = { type: "webhook", id: created.webhook.id };
  return Response.json(created, { status: 201, headers: { "cache-control": "no-store" } });
});

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listWebhooks.path);
