import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/** One sample: the first of containers.stats' live samples, after which the subscription ends. */
export const GET = endpointRoute(ENDPOINTS.containerStats, async ({ caller, path }) => {
  const samples = await caller.containers.stats({ hostId: path.hostId, containerId: path.containerId });
  const iterator = samples[Symbol.asyncIterator]();
  try {
    const first = await iterator.next();
    return first.done ? null : first.value;
  } finally {
    await iterator.return?.();
  }
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.containerStats.path);
