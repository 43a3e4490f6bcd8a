import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.getAlert, ({ caller, path }) => caller.alerts.get({ id: path.alertId }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.getAlert.path);
