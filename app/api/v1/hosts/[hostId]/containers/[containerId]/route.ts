import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.inspectContainer, ({ caller, path }) =>
  caller.containers.inspect({ hostId: path.hostId, containerId: path.containerId }),
);

export const DELETE = endpointRoute(ENDPOINTS.removeContainer, async ({ caller, path, audit }) => {
  audit.target = { type: "container", id: path.containerId };
  return caller.containers.action({ hostId: path.hostId, containerId: path.containerId, action: "remove" });
});

export const { POST, PUT, PATCH } = otherMethods(ENDPOINTS.inspectContainer.path);
