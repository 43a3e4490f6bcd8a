import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.getRollout, ({ caller, path }) => caller.rollouts.get({ id: path.rolloutId }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.getRollout.path);
