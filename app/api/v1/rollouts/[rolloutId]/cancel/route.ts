import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.cancelRollout, ({ caller, path, audit }) => {
  audit.target = { type: "rollout", id: path.rolloutId };
  return caller.rollouts.cancel({ id: path.rolloutId });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.cancelRollout.path);
