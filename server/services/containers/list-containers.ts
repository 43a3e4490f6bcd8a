import "server-only";
import { hostCoverage, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { isFleetError } from "../../fleet/errors";
import type { FleetServices } from "../../fleet/instance";
import { coveredHosts } from "../hosts/list-hosts";
import type { FleetAccess } from "../service-deps";
import { listFleetContainers, type ContainerQuery } from "./fleet-containers";
import { updatesAvailable } from "../../watch/update-available";

/** Every container the viewer may read (containers.read), across hosts, from the fleet's live state. */
export async function listAllContainers(o: { db: Db; viewer: Viewer; fleet: FleetAccess; query: ContainerQuery }) {
  const { fleet } = await o.fleet();
  const hosts = await o.db.host.findMany({
    where: coveredHosts(hostCoverage(o.viewer, "containers.read")),
    select: { id: true, name: true },
  });
  const page = listFleetContainers(fleet, hosts, o.query);
  // Only the page's rows are compared (one query for their tags' digests).
  const updates = await updatesAvailable(o.db, page.items);
  return { ...page, items: page.items.map((row, i) => ({ ...row, updateAvailable: updates[i] ?? false })) };
}

/** One host's containers, live; when the host can't be reached, the last list the fleet saw, marked stale with why. */
export async function listHostContainers(o: { services: FleetServices; hostId: string }) {
  const { fleet } = o.services;
  try {
    const containers = await fleet.client(o.hostId).containers({ all: true, timeoutMs: 5_000 });
    return { containers, stale: false, at: new Date(), message: null as string | null };
  } catch (e) {
    if (!isFleetError(e)) throw e;
    const last = fleet.snapshot(o.hostId);
    return { containers: last.containers ?? [], stale: true, at: last.containersAt, message: e.message };
  }
}
