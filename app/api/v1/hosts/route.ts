import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** GET /api/v1/hosts: the hosts this token may read, as the console's hosts.list returns them. */
export const GET = endpointRoute(ENDPOINTS.listHosts, ({ caller }) => caller.hosts.list());

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listHosts.path);
