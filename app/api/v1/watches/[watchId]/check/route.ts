import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.checkWatch, async ({ caller, path, audit }) => {
  audit.target = { type: "watch", id: path.watchId };
  return caller.watches.checkNow({ id: path.watchId });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.checkWatch.path);
