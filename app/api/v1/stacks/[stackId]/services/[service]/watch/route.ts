import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.setStackServiceWatch, async ({ caller, path, body, audit }) => {
  audit.target = { type: "stack", id: path.stackId };
  return caller.watches.set({ stackId: path.stackId, service: path.service, ...body });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.setStackServiceWatch.path);
