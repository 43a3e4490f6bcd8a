import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listChannels, ({ caller }) => caller.channels.list());

export const POST = endpointRoute(ENDPOINTS.createChannel, async ({ caller, body, audit }) => {
  const created = await caller.channels.create(body);
  audit.target = { type: "alertChannel", id: created.id };
  return Response.json(created, { status: 201, headers: { "cache-control": "no-store" } });
});

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listChannels.path);
