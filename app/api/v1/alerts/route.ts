import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listAlerts, ({ caller, query }) => caller.alerts.list(query));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listAlerts.path);
