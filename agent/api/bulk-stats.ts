import { readFile, statfs } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ContainerIo } from "../engine/container-io";
import type { ContainerEngine } from "../engine/engine";
import { isActive } from "../engine/status";
import type { VolumeStore } from "../volumes/store";
import { type Router, sendJson } from "./http";

// GET /berth/stats (Berth's own, not Docker's): one answer with every running
// container's cumulative cgroup counters, the host's CPU and memory counters
// and the filesystems of the state root and of each volume — what the
// gateway's stats collector needs each minute, in one round trip instead of
// one /containers/{id}/stats per container. Docker's endpoint stays as it is.

const CGROUP_ROOT = "/sys/fs/cgroup";
const CLOCK_TICKS = 100;
/** Bounds the answer: a host with more volumes reports the first ones (by name). */
const MAX_VOLUMES = 500;

const readText = (file: string) => readFile(file, "utf8").catch(() => "");

export interface BulkContainerStats {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Cumulative CPU time (user + system), nanoseconds. */
  cpuNanos: number;
  /** CPUs the container may use: NanoCpus, else CpuQuota/CpuPeriod; null without a limit. */
  cpuLimit: number | null;
  memoryBytes: number;
  /** HostConfig.Memory; null without a limit. */
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  restartCount: number;
  health: "none" | "starting" | "healthy" | "unhealthy";
  oomKills: number;
}

export interface BulkDiskStats {
  mount: string;
  path: string;
  sizeBytes: number;
  usedBytes: number;
}

export interface BulkStats {
  at: string;
  host: { cpus: number; cpuTotalNanos: number; cpuIdleNanos: number; memoryTotalBytes: number; memoryAvailableBytes: number };
  containers: BulkContainerStats[];
  disks: BulkDiskStats[];
}

/** /proc/stat's first line: all CPUs' busy+idle and idle (idle + iowait) time, in nanoseconds. */
export function hostCpu(procStat: string): { total: number; idle: number } {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return { total: 0, idle: 0 };
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { total: (total * 1e9) / CLOCK_TICKS, idle: (idle * 1e9) / CLOCK_TICKS };
}

function meminfo(text: string): { total: number; available: number } {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN) * 1024;
  const total = kb("MemTotal");
  const available = kb("MemAvailable");
  return { total: Number.isFinite(total) ? total : os.totalmem(), available: Number.isFinite(available) ? available : os.freemem() };
}

/** OOM kills recorded in the container's cgroup (v2 memory.events, v1 memory.oom_control). */
async function oomKills(rel: string): Promise<number> {
  const v2 = /^oom_kill\s+(\d+)/m.exec(await readText(path.join(CGROUP_ROOT, rel, "memory.events")));
  if (v2) return Number(v2[1]);
  const v1 = /^oom_kill\s+(\d+)/m.exec(await readText(path.join(CGROUP_ROOT, "memory", rel, "memory.oom_control")));
  return v1 ? Number(v1[1]) : 0;
}

async function disk(mount: string, p: string): Promise<BulkDiskStats | null> {
  try {
    const s = await statfs(p);
    const size = s.blocks * s.bsize;
    return { mount, path: p, sizeBytes: size, usedBytes: size - s.bfree * s.bsize };
  } catch {
    return null;
  }
}

export function bulkStatsRoutes(router: Router, engine: ContainerEngine, io: ContainerIo, volumes: VolumeStore, root: string): void {
  router.add("GET", "/berth/stats", async (ctx) => {
    const running = engine.list().filter((c) => isActive(c.state.status));
    const containers = await Promise.all(
      running.map(async (c): Promise<BulkContainerStats | null> => {
        try {
          const doc = await io.sample(c.id, false);
          const usage = doc.cpu_stats.cpu_usage;
          const blk = doc.blkio_stats.io_service_bytes_recursive ?? [];
          const nets = Object.values(doc.networks);
          const h = c.host;
          const cpuLimit = h.NanoCpus > 0 ? h.NanoCpus / 1e9 : h.CpuQuota > 0 && h.CpuPeriod > 0 ? h.CpuQuota / h.CpuPeriod : h.CpuQuota > 0 ? h.CpuQuota / 100_000 : null;
          const mem = doc.memory_stats as { usage?: number };
          return {
            id: c.id,
            name: c.name,
            image: c.config.Image,
            labels: c.config.Labels ?? {},
            cpuNanos: usage.total_usage,
            cpuLimit,
            memoryBytes: mem.usage ?? 0,
            memoryLimitBytes: h.Memory > 0 ? h.Memory : null,
            netRxBytes: nets.reduce((a, n) => a + n.rx_bytes, 0),
            netTxBytes: nets.reduce((a, n) => a + n.tx_bytes, 0),
            blockReadBytes: blk.find((b) => b.op === "read")?.value ?? 0,
            blockWriteBytes: blk.find((b) => b.op === "write")?.value ?? 0,
            restartCount: c.state.restartCount,
            health: c.state.health?.Status ?? "none",
            oomKills: await oomKills(engine.cgroupsPath(c.id)),
          };
        } catch {
          return null; // it went away while we read it
        }
      }),
    );
    const cpu = hostCpu(await readText("/proc/stat"));
    const mem = meminfo(await readText("/proc/meminfo"));
    const vols = volumes
      .list()
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .slice(0, MAX_VOLUMES);
    const disks = await Promise.all([disk("state", root), ...vols.map((v) => disk(`volume:${v.Name}`, v.Mountpoint))]);
    const body: BulkStats = {
      at: new Date().toISOString(),
      host: { cpus: os.availableParallelism(), cpuTotalNanos: cpu.total, cpuIdleNanos: cpu.idle, memoryTotalBytes: mem.total, memoryAvailableBytes: mem.available },
      containers: containers.filter((c): c is BulkContainerStats => c !== null),
      disks: disks.filter((d): d is BulkDiskStats => d !== null),
    };
    sendJson(ctx, 200, body);
  });
}
