import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** The saved deployment as the console's containers.deployment returns it: secret env values masked. */
export const GET = endpointRoute(ENDPOINTS.getDeployment, ({ caller, path }) =>
  caller.containers.deployment({ hostId: path.hostId, deploymentId: path.deploymentId }),
);

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.getDeployment.path);
