import "server-only";
import { on } from "node:events";
import { canOnHost, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import type { HostSnapshot, InstallProgress } from "../../fleet/fleet";
import type { FleetAccess } from "../service-deps";

/** Live changes of the hosts the viewer may read (hosts.read), as the fleet sees them, until the signal aborts. */
export async function* watchHostChanges(o: { db: Db; viewer: Viewer; fleet: FleetAccess; signal?: AbortSignal }) {
  const { fleet } = await o.fleet();
  // Each host's group, looked up once: the check needs it, and a host's changes come often.
  const groups = new Map<string, string | null>();
  for await (const [snapshot] of on(fleet, "change", { signal: o.signal }) as AsyncIterable<[HostSnapshot]>) {
    if (!groups.has(snapshot.hostId)) {
      const row = await o.db.host.findUnique({ where: { id: snapshot.hostId }, select: { hostGroupId: true } });
      if (!row) continue;
      groups.set(snapshot.hostId, row.hostGroupId);
    }
    if (!canOnHost(o.viewer, "hosts.read", { id: snapshot.hostId, hostGroupId: groups.get(snapshot.hostId) ?? null })) continue;
    yield {
      hostId: snapshot.hostId,
      status: snapshot.state === "connecting" ? "pending" : snapshot.state,
      message: snapshot.message,
      stale: snapshot.stale,
      agent: snapshot.agent,
      agentVersion: snapshot.agentVersion,
      containerCount: snapshot.containers?.length ?? null,
      runningCount: snapshot.containers?.filter((c) => c.State === "running").length ?? null,
      factsAt: snapshot.factsAt,
      samples: snapshot.samples,
    };
  }
}

/** Steps of an agent install or upgrade on one host, as they happen. */
export async function* watchInstallProgress(o: { fleet: FleetAccess; hostId: string; signal?: AbortSignal }) {
  const { fleet } = await o.fleet();
  for await (const [event] of on(fleet, "install", { signal: o.signal }) as AsyncIterable<[InstallProgress]>) {
    if (event.hostId === o.hostId) yield { step: event.step, detail: event.detail, at: event.at };
  }
}
