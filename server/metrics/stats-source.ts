import "server-only";
import type { ContainerSampleView, HostSampleView } from "./scrape";

// The stats collector's latest samples (server/stats/latest.ts, built beside
// this: `latestSamples()` / `latestHostSamples()`, kept on globalThis under
// `berthLatestStats`). Read through the shared holder rather than by import
// so /metrics works (with host and fleet series only) in a gateway that
// collects no stats. TODO(after al-stats merges): import the getters instead.

interface LatestStore {
  containers?: ReadonlyMap<string, ContainerSampleView>;
  hosts?: ReadonlyMap<string, HostSampleView>;
}

const EMPTY = new Map<string, never>();

export function latestStats(): { containers: ReadonlyMap<string, ContainerSampleView>; hosts: ReadonlyMap<string, HostSampleView> } {
  const store = (globalThis as unknown as { berthLatestStats?: LatestStore }).berthLatestStats;
  return { containers: store?.containers ?? EMPTY, hosts: store?.hosts ?? EMPTY };
}
