import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.testChannel, ({ caller, path, audit }) => {
  audit.target = { type: "alertChannel", id: path.channelId };
  return caller.channels.testSend({ id: path.channelId });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.testChannel.path);
