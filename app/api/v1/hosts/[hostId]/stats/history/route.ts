import { callerFor } from "@/server/rest/caller";
import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** The host's own series (stats.history without a container). */
export const GET = endpointRoute(ENDPOINTS.hostStatsHistory, ({ viewer, meta, path, query }) =>
  callerFor(viewer, meta).stats.history({ hostId: path.hostId, hours: query.hours }),
);

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.hostStatsHistory.path);
