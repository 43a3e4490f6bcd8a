import { callerFor } from "@/server/rest/caller";
import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** A container's series (stats.history with the container). */
export const GET = endpointRoute(ENDPOINTS.containerStatsHistory, ({ viewer, meta, path, query }) =>
  callerFor(viewer, meta).stats.history({ hostId: path.hostId, containerId: path.containerId, hours: query.hours }),
);

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.containerStatsHistory.path);
