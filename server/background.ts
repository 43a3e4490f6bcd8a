import "server-only";
import type { FleetServices } from "./fleet/instance";

// Work the gateway does on its own once the fleet is up: the rollout queue's
// worker and the registry watcher. Started from instrumentation.ts, inside
// Next's server bundle, where the routers' fleet lives. Each starter returns
// a stop function; every one of them is safe to run on several gateways at
// once (they claim their work in the database).

export type StopFn = () => Promise<void> | void;

type Starter = (services: FleetServices) => StopFn;

const holder = globalThis as unknown as { berthBackground?: StopFn[] };

/** The starters, in order (each module adds its own line). */
async function starters(): Promise<Starter[]> {
  const { startWatcher } = await import("./watch/scheduler");
  return [(await import("./rollouts/worker")).startRolloutWorker, (await import("./approvals/sweep")).startApprovalSweep, (services) => startWatcher(services), (await import("./stats/collector")).startStatsCollector];
}

export async function startBackgroundWork(services: FleetServices): Promise<void> {
  if (holder.berthBackground) return;
  holder.berthBackground = [];
  for (const start of await starters()) holder.berthBackground.push(start(services));
}

export async function stopBackgroundWork(): Promise<void> {
  const stops = holder.berthBackground ?? [];
  holder.berthBackground = undefined;
  for (const stop of stops.reverse()) await stop();
}
