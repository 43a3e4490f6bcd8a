import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { streamPull } from "@/server/rest/streams";

export const dynamic = "force-dynamic";

/** Answers NDJSON: per-layer progress lines, then a result line. */
export const POST = endpointRoute(ENDPOINTS.pullImage, ({ caller, viewer, path, body, audit }) =>
  streamPull({ caller, userId: viewer.user.id, hostId: path.hostId, reference: body.reference, registryId: body.registryId, audit }),
);

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.pullImage.path);
