import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listFleetContainers, ({ caller, query }) => {
  const { hostId, ...rest } = query;
  return caller.containers.all({ ...rest, hostIds: hostId === undefined ? undefined : Array.isArray(hostId) ? hostId : [hostId] });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listFleetContainers.path);
