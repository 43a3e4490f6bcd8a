import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** POST …/containers/{containerId}/{start|stop|restart|pause|unpause|kill}; any other word is a 404. */
export const POST = endpointRoute(ENDPOINTS.containerAction, async ({ caller, path, audit }) => {
  audit.target = { type: "container", id: path.containerId };
  audit.params = { action: path.action };
  return caller.containers.action({ hostId: path.hostId, containerId: path.containerId, action: path.action });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.containerAction.path);
