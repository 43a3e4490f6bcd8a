import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.getDeploymentWatch, ({ caller, path }) => caller.watches.get({ deploymentId: path.deploymentId }));

export const POST = endpointRoute(ENDPOINTS.setDeploymentWatch, async ({ caller, path, body, audit }) => {
  audit.target = { type: "deployment", id: path.deploymentId };
  return caller.watches.set({ deploymentId: path.deploymentId, ...body });
});

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.getDeploymentWatch.path);
