import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** rollouts.list: scoped to the hosts the token may read (containers.read for deployments, stacks.read for stacks). */
export const GET = endpointRoute(ENDPOINTS.listRollouts, ({ caller, query }) => caller.rollouts.list(query));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listRollouts.path);
