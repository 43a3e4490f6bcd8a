import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** containers.deployments (the 500 most recently changed on the hosts the token may read), filtered and paged. */
export const GET = endpointRoute(ENDPOINTS.listDeployments, async ({ caller, query }) => {
  const rows = await caller.containers.deployments();
  const matching = query.hostId ? rows.filter((r) => r.hostId === query.hostId) : rows;
  const page = matching.slice(query.offset, query.offset + query.limit);
  const end = query.offset + page.length;
  return {
    items: page.map(({ host, ...r }) => ({ ...r, hostName: host.name })),
    total: matching.length,
    nextOffset: end < matching.length ? end : null,
  };
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listDeployments.path);
