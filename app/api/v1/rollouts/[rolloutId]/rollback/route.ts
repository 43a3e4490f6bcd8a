import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** 202 with the new rollout's id and where to follow it. */
export const POST = endpointRoute(ENDPOINTS.rollbackRollout, async ({ caller, path, request, audit }) => {
  audit.target = { type: "rollout", id: path.rolloutId };
  const accepted = await caller.rollouts.rollback({ rolloutId: path.rolloutId });
  audit.params = { rolloutId: accepted.rolloutId, status: accepted.status };
  const statusUrl = new URL(`/api/v1/rollouts/${accepted.rolloutId}`, request.url).pathname;
  return Response.json({ ...accepted, statusUrl }, { status: 202, headers: { "cache-control": "no-store", location: statusUrl } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.rollbackRollout.path);
