import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** containers.update: a rollout, waited for unless wait=false; 200 when it finished, 202 while it is queued or waits for approval. */
export const POST = endpointRoute(ENDPOINTS.updateDeployment, async ({ caller, path, query, body, request, audit }) => {
  audit.target = { type: "deployment", id: path.deploymentId };
  audit.params = { image: body.image ?? null, edited: Boolean(body.spec), overridePolicy: query.overridePolicy, wait: query.wait };
  const result = await caller.containers.update({
    hostId: path.hostId,
    deploymentId: path.deploymentId,
    image: body.image,
    spec: body.spec,
    overridePolicy: query.overridePolicy,
    wait: query.wait,
  });
  audit.params = { ...audit.params, rolloutId: result.rolloutId, status: result.status };
  const statusUrl = new URL(`/api/v1/rollouts/${result.rolloutId}`, request.url).pathname;
  const finished = !["queued", "running", "awaitingApproval"].includes(result.status);
  const { overridden: _overridden, ...answer } = result;
  return Response.json({ ...answer, statusUrl }, { status: finished ? 200 : 202, headers: { "cache-control": "no-store", ...(finished ? {} : { location: statusUrl }) } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.updateDeployment.path);
