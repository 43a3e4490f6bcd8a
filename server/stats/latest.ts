import "server-only";

// The latest sample of every running container and of every host this
// gateway collects from, in memory, for GET /metrics. The collector replaces a
// host's whole set on each pass, so containers that went away drop out (the
// metrics' cardinality follows the containers that exist). Kept on globalThis:
// the entry point and Next's server bundle load separate copies of modules.

export type ContainerHealth = "none" | "starting" | "healthy" | "unhealthy";

export interface LatestContainerSample {
  hostId: string;
  hostName: string;
  containerId: string;
  /** Without the leading slash. */
  name: string;
  image: string;
  labels: Readonly<Record<string, string>>;
  at: Date;
  /** Cumulative CPU time the container used (user + system), in seconds. */
  cpuSecondsTotal: number;
  /** As `docker stats` shows it: 100 = one CPU, over the last interval (0 on the first sample). */
  cpuPercent: number;
  /** Of the container's CPU limit (NanoCpus or CpuQuota/CpuPeriod), else of all the host's CPUs: 0–100. */
  cpuPercentOfLimit: number;
  memoryBytes: number;
  /** The container's memory limit; null without one. */
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  restartCount: number;
  health: ContainerHealth;
  /** OOM kills in the container's cgroup since it started. */
  oomKills: number;
}

export interface LatestDiskSample {
  /** "state" (the agent's state root) or "volume:<name>". */
  mount: string;
  path: string;
  sizeBytes: number;
  usedBytes: number;
  usedPercent: number;
}

export interface LatestHostSample {
  hostId: string;
  hostName: string;
  at: Date;
  cpus: number;
  /** Busy share of all the host's CPUs over the last interval, 0–100 (0 on the first sample). */
  cpuPercent: number;
  memoryBytes: number;
  memoryTotalBytes: number;
  disks: readonly LatestDiskSample[];
}

interface Store {
  containers: Map<string, LatestContainerSample>;
  hosts: Map<string, LatestHostSample>;
}

const holder = globalThis as unknown as { berthLatestStats?: Store };

function store(): Store {
  holder.berthLatestStats ??= { containers: new Map(), hosts: new Map() };
  return holder.berthLatestStats;
}

/** Key of latestSamples(): `${hostId}/${containerId}`. */
export const sampleKey = (hostId: string, containerId: string) => `${hostId}/${containerId}`;

/** Every running container's latest sample, keyed by `${hostId}/${containerId}`. */
export function latestSamples(): ReadonlyMap<string, LatestContainerSample> {
  return store().containers;
}

/** Every host's latest sample, keyed by host id. */
export function latestHostSamples(): ReadonlyMap<string, LatestHostSample> {
  return store().hosts;
}

/** Replaces what is known of a host: its own sample and its running containers' (the others drop out). */
export function recordLatest(host: LatestHostSample, containers: readonly LatestContainerSample[]): void {
  const s = store();
  s.hosts.set(host.hostId, host);
  for (const key of [...s.containers.keys()]) if (key.startsWith(`${host.hostId}/`)) s.containers.delete(key);
  for (const c of containers) s.containers.set(sampleKey(c.hostId, c.containerId), c);
}

/** Forgets a host (removed, or no longer reachable from this gateway). */
export function forgetLatest(hostId: string): void {
  const s = store();
  s.hosts.delete(hostId);
  for (const key of [...s.containers.keys()]) if (key.startsWith(`${hostId}/`)) s.containers.delete(key);
}
