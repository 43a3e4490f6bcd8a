import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** The stacks on the hosts the token may read (stacks.read), with each service's live state. */
export const GET = endpointRoute(ENDPOINTS.listStacks, ({ caller, query }) => caller.stacks.list({ hostId: query.hostId, cursor: query.cursor, limit: query.limit }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listStacks.path);
