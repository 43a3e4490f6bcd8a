import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listStackWatches, ({ caller, path }) => caller.watches.forStack({ stackId: path.stackId }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listStackWatches.path);
