import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** The deployment's timeline (deployments.get first: a deployment the token can't read is a 403, one that doesn't exist a 404). */
export const GET = endpointRoute(ENDPOINTS.listDeploymentRollouts, async ({ caller, path, query }) => {
  await caller.deployments.get({ id: path.deploymentId });
  return caller.rollouts.list({ ...query, deploymentId: path.deploymentId });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listDeploymentRollouts.path);
