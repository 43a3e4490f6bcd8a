import "server-only";
import { emitSignal } from "../alerts/signals";
import { db as defaultDb, type Db } from "../db";
import { env } from "../env";
import type { Fleet } from "../fleet/fleet";
import type { FleetServices } from "../fleet/instance";
import type { AgentBulkStats } from "./bulk-types";
import { forgetLatest, type LatestContainerSample, type LatestHostSample, recordLatest } from "./latest";
import { containerCpuPercent, type CpuCounter, cpuPercentOfLimit, hostCpuPercent, type HostCpuCounter, usedPercent } from "./sample-math";
import { pruneSamples, type SampleRow, writeSamples } from "./store";

// The stats collector (started from server/background.ts): every interval,
// one GET /berth/stats per connected host — every running container's
// counters, the host's, and its filesystems — turned into minute-aligned
// StatSample rows, the in-memory latest samples /metrics reads, and the
// usage/disk signals the alert evaluator listens to. Then rows older than
// 24 hours are pruned in bounded batches. Each gateway samples the hosts it is
// connected to; two gateways on one host upsert the same rows.

/** Hosts sampled at once. */
const HOST_CONCURRENCY = 8;

export interface CollectorOptions {
  db?: Db;
  intervalMs?: number;
  log?: (line: string) => void;
}

interface HostMemory {
  host?: HostCpuCounter;
  containers: Map<string, CpuCounter>;
}

type FleetLike = Pick<Fleet, "snapshot" | "client">;

export class StatsCollector {
  /** The previous reading per host, for CPU percentages. */
  private readonly previous = new Map<string, HostMemory>();
  /** The last failure said per host. */
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly fleet: FleetLike,
    private readonly db: Db,
    private readonly log: (line: string) => void,
  ) {}

  /** One pass over every host; returns how many rows it wrote. */
  async collect(now = new Date()): Promise<number> {
    const hosts = await this.db.host.findMany({ select: { id: true, name: true }, orderBy: { id: "asc" } });
    const known = new Set(hosts.map((h) => h.id));
    for (const id of [...this.previous.keys()]) if (!known.has(id)) this.forget(id);
    let written = 0;
    const queue = [...hosts];
    const worker = async () => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        try {
          written += await this.collectHost(h.id, h.name);
          this.failures.delete(h.id);
        } catch (e) {
          // Said once per host until it changes, not every pass (an agent too old for /berth/stats, say).
          const message = e instanceof Error ? e.message : String(e);
          if (this.failures.get(h.id) !== message) this.log(`${h.name}: ${message}`);
          this.failures.set(h.id, message);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(HOST_CONCURRENCY, hosts.length) }, worker));
    try {
      await pruneSamples(this.db, now);
    } catch (e) {
      this.log(`pruning failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return written;
  }

  private forget(hostId: string): void {
    this.previous.delete(hostId);
    forgetLatest(hostId);
  }

  private async collectHost(hostId: string, hostName: string): Promise<number> {
    const snap = this.fleet.snapshot(hostId);
    if (snap.state !== "connected" || snap.agent !== "ok") {
      this.forget(hostId);
      return 0;
    }
    const stats = await this.fleet.client(hostId).bulkStats();
    return this.record(hostId, hostName, stats);
  }

  /** Turns one answer into rows, latest samples and signals. */
  async record(hostId: string, hostName: string, s: AgentBulkStats): Promise<number> {
    // Rates use the agent's clock (both readings come from it); rows and signals the gateway's, as pruning does.
    const at = new Date();
    const atMs = Date.parse(s.at) || at.getTime();
    const memory = this.previous.get(hostId) ?? { containers: new Map<string, CpuCounter>() };
    const hostCounter = { totalNanos: s.host.cpuTotalNanos, idleNanos: s.host.cpuIdleNanos };
    const hostCpu = hostCpuPercent(memory.host, hostCounter);
    const nextContainers = new Map<string, CpuCounter>();
    const rows: SampleRow[] = [];
    const latest: LatestContainerSample[] = [];

    for (const c of s.containers) {
      const counter = { cpuNanos: c.cpuNanos, atMs };
      const cpuPercent = containerCpuPercent(memory.containers.get(c.id), counter);
      nextContainers.set(c.id, counter);
      const ofLimit = cpuPercentOfLimit(cpuPercent, c.cpuLimit, s.host.cpus);
      rows.push({
        hostId,
        containerId: c.id,
        containerName: c.name,
        at,
        cpuPercent,
        memoryBytes: c.memoryBytes,
        memoryLimitBytes: c.memoryLimitBytes,
        netRxBytes: c.netRxBytes,
        netTxBytes: c.netTxBytes,
        blockReadBytes: c.blockReadBytes,
        blockWriteBytes: c.blockWriteBytes,
      });
      latest.push({
        hostId,
        hostName,
        containerId: c.id,
        name: c.name,
        image: c.image,
        labels: c.labels,
        at,
        cpuSecondsTotal: c.cpuNanos / 1e9,
        cpuPercent,
        cpuPercentOfLimit: ofLimit,
        memoryBytes: c.memoryBytes,
        memoryLimitBytes: c.memoryLimitBytes,
        netRxBytes: c.netRxBytes,
        netTxBytes: c.netTxBytes,
        blockReadBytes: c.blockReadBytes,
        blockWriteBytes: c.blockWriteBytes,
        restartCount: c.restartCount,
        health: c.health,
        oomKills: c.oomKills,
      });
    }

    const hostMemory = Math.max(0, s.host.memoryTotalBytes - s.host.memoryAvailableBytes);
    const sums = s.containers.reduce(
      (a, c) => ({ rx: a.rx + c.netRxBytes, tx: a.tx + c.netTxBytes, r: a.r + c.blockReadBytes, w: a.w + c.blockWriteBytes }),
      { rx: 0, tx: 0, r: 0, w: 0 },
    );
    // The host's row: its CPU (0–100 of all CPUs) and memory; network and block I/O are its containers' sums.
    rows.push({
      hostId,
      containerId: "",
      containerName: "",
      at,
      cpuPercent: hostCpu,
      memoryBytes: hostMemory,
      memoryLimitBytes: s.host.memoryTotalBytes,
      netRxBytes: sums.rx,
      netTxBytes: sums.tx,
      blockReadBytes: sums.r,
      blockWriteBytes: sums.w,
    });
    const disks = s.disks.map((d) => ({ ...d, usedPercent: usedPercent(d.usedBytes, d.sizeBytes) }));
    const hostSample: LatestHostSample = { hostId, hostName, at, cpus: s.host.cpus, cpuPercent: hostCpu, memoryBytes: hostMemory, memoryTotalBytes: s.host.memoryTotalBytes, disks };

    await writeSamples(this.db, rows);
    this.previous.set(hostId, { host: hostCounter, containers: nextContainers });
    recordLatest(hostSample, latest);

    for (const c of latest) {
      emitSignal({
        type: "usage.sample",
        hostId,
        containerId: c.containerId,
        name: c.name,
        labels: { ...c.labels },
        cpuPercentOfLimit: c.cpuPercentOfLimit,
        memoryBytes: c.memoryBytes,
        memoryLimitBytes: c.memoryLimitBytes,
        at,
      });
    }
    for (const d of disks) emitSignal({ type: "disk.usage", hostId, mount: d.mount, path: d.path, usedPercent: d.usedPercent, at });
    return rows.length;
  }
}

export function startStatsCollector(services: FleetServices, o: CollectorOptions = {}): () => void {
  const log = o.log ?? ((line: string) => console.error(`[berth] stats: ${line}`));
  const collector = new StatsCollector(services.fleet, o.db ?? defaultDb(), log);
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await collector.collect();
    } catch (e) {
      log(`collection failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs ?? env().BERTH_STATS_INTERVAL_MS);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}
