import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/**
 * GET: the host's containers, live; when the host can't be reached, the last
 * known list with `stale: true`. POST: deploy a spec (containers.deploy),
 * through the deploy policy exactly as the console's form.
 */
export const GET = endpointRoute(ENDPOINTS.listContainers, ({ caller, path }) => caller.containers.list({ hostId: path.hostId }));

export const POST = endpointRoute(ENDPOINTS.deployContainer, async ({ caller, path, query, body, audit }) => {
  audit.target = { type: "container", id: body.name ?? body.image };
  audit.params = { image: body.image, name: body.name ?? null, overridePolicy: query.overridePolicy };
  const result = await caller.containers.deploy({ hostId: path.hostId, spec: body, overridePolicy: query.overridePolicy });
  audit.target = { type: "container", id: result.containerId };
  audit.params = { image: body.image, name: result.name, overridden: result.overridden.map((v) => v.rule) };
  return Response.json(result, { status: 201, headers: { "cache-control": "no-store" } });
});

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listContainers.path);
