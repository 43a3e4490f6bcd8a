import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const PUT = endpointRoute(ENDPOINTS.updateChannel, ({ caller, path, body, audit }) => {
  audit.target = { type: "alertChannel", id: path.channelId };
  return caller.channels.update({ id: path.channelId, ...body });
});

export const DELETE = endpointRoute(ENDPOINTS.removeChannel, ({ caller, path, audit }) => {
  audit.target = { type: "alertChannel", id: path.channelId };
  return caller.channels.remove({ id: path.channelId });
});

export const { GET, POST, PATCH } = otherMethods(ENDPOINTS.updateChannel.path);
