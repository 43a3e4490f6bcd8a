import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { refuseTokenManagement } from "@/server/rest/tokens";

export const dynamic = "force-dynamic";

export const DELETE = endpointRoute(ENDPOINTS.revokeToken, refuseTokenManagement);

export const { GET, POST, PUT, PATCH } = otherMethods(ENDPOINTS.revokeToken.path);
