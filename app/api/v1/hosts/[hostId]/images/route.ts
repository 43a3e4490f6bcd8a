import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listImages, ({ caller, path }) => caller.images.list({ hostId: path.hostId }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listImages.path);
