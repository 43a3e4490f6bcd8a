import { methodNotAllowed, restRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/hosts/{hostId}/containers: the host's containers, live. When the
 * host can't be reached the answer is the last known list with `stale: true`.
 * Needs containers.read on that host.
 */
export const GET = restRoute<{ hostId: string }>({ action: "api.v1.hosts.containers.list" }, ({ caller, params, audit }) => {
  audit.hostId = params.hostId.slice(0, 64);
  return caller.containers.list({ hostId: params.hostId });
});

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
