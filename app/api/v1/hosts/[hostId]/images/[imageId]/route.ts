import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const DELETE = endpointRoute(ENDPOINTS.removeImage, async ({ caller, path, query, audit }) => {
  audit.target = { type: "image", id: path.imageId };
  await caller.images.remove({ hostId: path.hostId, image: path.imageId, force: query.force });
  return { removed: true };
});

export const { GET, POST, PUT, PATCH } = otherMethods(ENDPOINTS.removeImage.path);
