import "server-only";

// What the agent's GET /berth/stats answers (agent/api/bulk-stats.ts): every
// running container's cumulative counters, the host's CPU and memory counters
// and the state root's and volumes' filesystems. Types only.

export interface AgentBulkContainerStats {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Cumulative CPU time (user + system), nanoseconds. */
  cpuNanos: number;
  /** CPUs the container may use (NanoCpus, else CpuQuota/CpuPeriod); null without a limit. */
  cpuLimit: number | null;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  restartCount: number;
  health: "none" | "starting" | "healthy" | "unhealthy";
  oomKills: number;
}

export interface AgentBulkStats {
  at: string;
  host: { cpus: number; cpuTotalNanos: number; cpuIdleNanos: number; memoryTotalBytes: number; memoryAvailableBytes: number };
  containers: AgentBulkContainerStats[];
  disks: { mount: string; path: string; sizeBytes: number; usedBytes: number }[];
}
