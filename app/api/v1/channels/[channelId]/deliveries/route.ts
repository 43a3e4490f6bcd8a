import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listChannelDeliveries, ({ caller, path, query }) => caller.channels.deliveries({ channelId: path.channelId, limit: query.limit }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listChannelDeliveries.path);
