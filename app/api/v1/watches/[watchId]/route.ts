import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const DELETE = endpointRoute(ENDPOINTS.removeWatch, async ({ caller, path, audit }) => {
  audit.target = { type: "watch", id: path.watchId };
  return caller.watches.remove({ id: path.watchId });
});

export const { GET, POST, PUT, PATCH } = otherMethods(ENDPOINTS.removeWatch.path);
