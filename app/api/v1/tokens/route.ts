import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { refuseTokenManagement } from "@/server/rest/tokens";

export const dynamic = "force-dynamic";

// tokens.manage is never usable by a token (server/tokens/scope.ts NEVER_BY_TOKEN): always 403, audited.
export const GET = endpointRoute(ENDPOINTS.listTokens, refuseTokenManagement);
export const POST = endpointRoute(ENDPOINTS.createToken, refuseTokenManagement);

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listTokens.path);
