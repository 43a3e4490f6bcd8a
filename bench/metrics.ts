// GET /metrics rendering for 3 hosts × 200 containers: the scrape's series
// built from synthetic fleet snapshots and stats samples (what the gateway
// holds in memory), plus the gateway's own registry with HTTP and tRPC
// histograms filled in, rendered to the text format as the endpoint does.
// Server time for one scrape, without the two small queries it also makes
// (the host list and the firing-alert count) and without the token check.
import os from "node:os";
import type { ContainerSummary } from "../server/fleet/agent/types";
import type { HostSnapshot } from "../server/fleet/fleet";
import { renderMetrics } from "../server/metrics/endpoint";
import { observeHttp, observeTrpc } from "../server/metrics/registry";
import type { ContainerSampleView, HostSampleView, ScrapeState } from "../server/metrics/scrape";
import { stats, type Stats } from "./support";

export const METRICS_TARGET_MS = 200;

export interface MetricsBench {
  hosts: number;
  perHost: number;
  runs: number;
  warmup: number;
  /** Wall-clock time per scrape. */
  render: Stats;
  /** CPU time the process spent per scrape (user + system): the same work, without waiting for a busy machine's CPUs. */
  cpu: Stats;
  bytes: number;
  lines: number;
  load: { average: number; cpus: number };
}

export function syntheticState(hosts: number, perHost: number): ScrapeState {
  const containerSamples = new Map<string, ContainerSampleView>();
  const hostSamples = new Map<string, HostSampleView>();
  const list: ScrapeState["hosts"][number][] = [];
  for (let h = 0; h < hosts; h++) {
    const hostId = `host${h}`;
    const containers: ContainerSummary[] = [];
    for (let c = 0; c < perHost; c++) {
      const id = `${hostId}-${c.toString(16).padStart(12, "0")}`;
      const stack: Record<string, string> = c % 4 === 0 ? { "com.docker.compose.project": `stack${c % 20}`, "com.docker.compose.service": `svc${c % 7}` } : {};
      const running = c % 10 !== 9;
      containers.push({ Id: id, Names: [`/app-${c}`], Image: `registry.example.com/team/app${c % 15}:1.${c % 5}`, Created: 0, State: running ? "running" : "exited", Status: running ? "Up 3 hours (healthy)" : "Exited (0)", Labels: stack });
      if (running) {
        containerSamples.set(`${hostId}/${id}`, {
          hostId,
          containerId: id,
          cpuSecondsTotal: 1234.5 + c,
          memoryBytes: 50_000_000 + c * 1000,
          memoryLimitBytes: c % 2 ? 268_435_456 : null,
          netRxBytes: 1e9 + c,
          netTxBytes: 2e9 + c,
          blockReadBytes: 3e8,
          blockWriteBytes: 4e8,
          restartCount: c % 3,
          health: "healthy",
          oomKills: 0,
        });
      }
    }
    const snapshot: HostSnapshot = {
      hostId,
      state: "connected",
      message: null,
      agent: "ok",
      agentVersion: "0.9.0",
      containers,
      containersAt: new Date(),
      factsAt: new Date(),
      samples: [{ at: new Date(), load: 0.5, memory: 0.4 }],
      stale: false,
    };
    list.push({ id: hostId, name: `host-${h}`, snapshot });
    const disks = [{ mount: "state", sizeBytes: 1e11, usedBytes: 4e10 }, ...Array.from({ length: 10 }, (_, v) => ({ mount: `volume:data${v}`, sizeBytes: 1e11, usedBytes: 4e10 }))];
    hostSamples.set(hostId, { hostId, cpus: 8, cpuPercent: 35, memoryBytes: 8e9, memoryTotalBytes: 16e9, disks });
  }
  return { hosts: list, containerSamples, hostSamples, reconnects: new Map([["host1", 3]]), alertsFiring: { warning: 2 } };
}

/** The gateway's own histograms as a busy gateway has them: 40 routes and 80 procedures, a few statuses each. */
export function fillOwnMetrics(): void {
  for (let r = 0; r < 40; r++) for (const status of [200, 404, 500]) observeHttp("GET", `/bench/route${r}/[id]`, status, 0.01 * ((r % 7) + 1));
  for (let p = 0; p < 80; p++) for (const result of ["ok", "FORBIDDEN"]) observeTrpc(`bench.procedure${p}`, p % 3 ? "query" : "mutation", result, 0.002 * ((p % 5) + 1));
}

export async function benchMetrics(o: { hosts?: number; perHost?: number; runs?: number; warmup?: number } = {}): Promise<MetricsBench> {
  const hosts = o.hosts ?? 3;
  const perHost = o.perHost ?? 200;
  const runs = o.runs ?? Number(process.env.BENCH_METRICS_RUNS ?? 50);
  const warmup = o.warmup ?? 5;
  fillOwnMetrics();
  let text = "";
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    // A scrape builds its state afresh each time, as the endpoint does.
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    text = await renderMetrics(syntheticState(hosts, perHost));
    const cpu = process.cpuUsage(cpuBefore);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (i >= warmup) {
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  return {
    hosts,
    perHost,
    runs,
    warmup,
    render: stats(times),
    cpu: stats(cpuTimes),
    bytes: Buffer.byteLength(text),
    lines: text.split("\n").filter((l) => l && !l.startsWith("#")).length,
    load: { average: os.loadavg()[0]!, cpus: os.cpus().length },
  };
}
