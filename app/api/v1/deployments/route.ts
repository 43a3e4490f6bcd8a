import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { db } from "@/server/db";
import { countDeployments } from "@/server/services/deploy/list-deployments";

export const dynamic = "force-dynamic";

/** containers.deployments with the host filter and the page pushed into the database; total counts every match. */
export const GET = endpointRoute(ENDPOINTS.listDeployments, async ({ caller, viewer, query }) => {
  // The procedure checks containers.read (and audits a denial) before anything is counted.
  const rows = await caller.containers.deployments({ hostId: query.hostId, skip: query.offset, take: query.limit });
  const total = await countDeployments({ db: db(), viewer, hostId: query.hostId });
  const end = query.offset + rows.length;
  return {
    items: rows.map(({ host, ...r }) => ({ ...r, hostName: host.name })),
    total,
    nextOffset: rows.length > 0 && end < total ? end : null,
  };
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listDeployments.path);
