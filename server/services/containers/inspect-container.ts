import "server-only";
import type { Db } from "../../db";
import type { FleetServices } from "../../fleet/instance";
import { MASK } from "../deploy/secrets";
import { updateAvailableFor } from "../../watch/update-available";

/**
 * A container's inspect answer with the deployment that made it, if any.
 * Environment values of a deployment's secret variables never leave the server.
 */
export async function inspectContainer(o: { db: Db; services: FleetServices; hostId: string; containerId: string }) {
  const inspect = await o.services.fleet.client(o.hostId).inspectContainer(o.containerId);
  const row = await o.db.deployment.findFirst({
    where: { hostId: o.hostId, containerId: inspect.Id },
    select: { id: true, name: true, status: true, message: true, spec: true },
  });
  const deployment = row && { id: row.id, name: row.name, status: row.status, message: row.message };
  const secretNames = new Set<string>();
  for (const e of (row?.spec as { env?: { name: string; secret?: boolean }[] } | undefined)?.env ?? []) if (e.secret) secretNames.add(e.name);
  const env = (inspect.Config.Env ?? []).map((kv) => {
    const name = kv.split("=", 1)[0]!;
    return secretNames.has(name) ? `${name}=${MASK}` : kv;
  });
  // "Update available": the tag it was started from now points at another digest than its image's.
  const image = inspect.State.Running ? await o.services.fleet.client(o.hostId).inspectImage(inspect.Image).catch(() => null) : null;
  const updateAvailable = await updateAvailableFor(o.db, inspect.Config.Image, (image as { RepoDigests?: string[] | null } | null)?.RepoDigests, inspect.State.Running);
  return { ...inspect, Config: { ...inspect.Config, Env: env }, deployment, updateAvailable };
}
