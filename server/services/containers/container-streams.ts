import "server-only";
import type { FleetServices } from "../../fleet/instance";
import type { FleetAccess } from "../service-deps";
import { summariseStats } from "./fleet-containers";

interface OnContainer {
  hostId: string;
  containerId: string;
}

/** The last `tail` lines of a container's log (optionally between two times). */
export async function readContainerLogs(o: OnContainer & { services: FleetServices; tail: number; since?: number; until?: number; timestamps: boolean }) {
  const lines: { stream: string; text: string }[] = [];
  const frames = o.services.fleet.client(o.hostId).logs(o.containerId, { tail: o.tail, since: o.since, until: o.until, timestamps: o.timestamps, timeoutMs: 10_000 });
  for await (const frame of frames) lines.push(frame);
  return lines;
}

/** A container's log as it is written. When the signal aborts (the browser went away) the agent's stream is closed. */
export async function* followContainerLogs(o: OnContainer & { fleet: FleetAccess; tail: number; timestamps: boolean; signal?: AbortSignal }) {
  const { fleet } = await o.fleet();
  yield* fleet.client(o.hostId).logs(o.containerId, { follow: true, tail: o.tail, timestamps: o.timestamps, signal: o.signal, timeoutMs: 10_000 });
}

/** Live CPU, memory, network and block I/O: one sample every 2 s until the signal aborts. */
export async function* watchContainerStats(o: OnContainer & { fleet: FleetAccess; signal?: AbortSignal }) {
  const { fleet } = await o.fleet();
  const client = fleet.client(o.hostId);
  const signal = o.signal;
  while (!signal?.aborted) {
    const started = Date.now();
    yield summariseStats((await client.stats(o.containerId, { signal })) as unknown as Parameters<typeof summariseStats>[0]);
    const wait = Math.max(0, 2_000 - (Date.now() - started));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}
