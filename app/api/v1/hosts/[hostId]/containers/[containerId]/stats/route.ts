import { AppError } from "@/server/errors";
import { callerFor } from "@/server/rest/caller";
import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

/**
 * One sample: the first of containers.stats' live samples, after which the
 * subscription ends. Its caller carries the request's abort signal, so a
 * client that leaves stops the call to the agent.
 */
export const GET = endpointRoute(ENDPOINTS.containerStats, async ({ viewer, meta, path, signal }) => {
  // Only this call gets the client's signal: other procedures (a pull, a deploy) finish even if the client leaves.
  const samples = await callerFor(viewer, meta, signal).containers.stats({ hostId: path.hostId, containerId: path.containerId });
  const iterator = samples[Symbol.asyncIterator]();
  try {
    const first = await iterator.next();
    if (first.done || first.value == null) {
      throw new AppError("UNAVAILABLE", signal.aborted ? "The request was cancelled before a stats sample arrived." : `No stats sample came from the host for container ${path.containerId}; try again.`);
    }
    return first.value;
  } finally {
    await iterator.return?.();
  }
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.containerStats.path);
