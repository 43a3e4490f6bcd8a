import "server-only";
import { Counter, Gauge, Registry } from "prom-client";
import { SEVERITIES } from "../../lib/alerts/kinds";
import type { ContainerSummary } from "../fleet/agent/types";
import type { HostSnapshot } from "../fleet/fleet";

// The series a scrape reads from what the gateway holds in memory: the
// fleet's snapshot of each host (link state, agent version, container list)
// and the stats collector's latest samples. Built into a fresh Registry each
// scrape, so a host or container that is gone simply isn't there. Pure over
// its input (no I/O): the endpoint gathers the state, tests and the
// benchmark hand in synthetic state.

/** What the stats collector keeps of a running container's latest sample (server/stats/latest.ts). */
export interface ContainerSampleView {
  hostId: string;
  containerId: string;
  cpuSecondsTotal: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  restartCount: number;
  health: string;
  oomKills: number;
}

/** What the stats collector keeps of a host's latest sample. */
export interface HostSampleView {
  hostId: string;
  cpus: number;
  /** 0–100 of all the host's CPUs. */
  cpuPercent: number;
  memoryBytes: number;
  memoryTotalBytes: number;
  disks: readonly { mount: string; sizeBytes: number; usedBytes: number }[];
}

export interface ScrapeHost {
  id: string;
  name: string;
  /** The fleet's view; null when this gateway has no connection for it (not confirmed yet). */
  snapshot: HostSnapshot | null;
}

export interface ScrapeState {
  /** Every host that exists. */
  hosts: readonly ScrapeHost[];
  /** Latest samples of running containers, keyed `${hostId}/${containerId}`. */
  containerSamples: ReadonlyMap<string, ContainerSampleView>;
  /** Latest samples of hosts, by host id. */
  hostSamples: ReadonlyMap<string, HostSampleView>;
  /** SSH reconnections per host id. */
  reconnects: ReadonlyMap<string, number>;
  /** Firing alerts by severity (null: the count could not be read; the family is left out). */
  alertsFiring: Readonly<Record<string, number>> | null;
}

export const LINK_STATES = ["pending", "connecting", "connected", "unreachable", "hostKeyChanged", "authFailed"] as const;
export const CONTAINER_STATES = ["created", "running", "paused", "restarting", "removing", "exited", "dead"] as const;
export const HEALTH_STATES = ["none", "starting", "healthy", "unhealthy"] as const;

const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";

const CONTAINER_LABELS = ["host", "name", "image", "stack", "service"] as const;
type ContainerLabels = Record<(typeof CONTAINER_LABELS)[number], string>;

/** The labels a container's series carry: its host, name, image and (for a stack's) stack and service. */
export function containerLabels(host: string, c: Pick<ContainerSummary, "Names" | "Image" | "Labels" | "Id">): ContainerLabels {
  const name = (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, "");
  return { host, name, image: c.Image, stack: c.Labels?.[PROJECT_LABEL] ?? "", service: c.Labels?.[SERVICE_LABEL] ?? "" };
}

/** Health as `docker ps` shows it in Status ("Up 5 minutes (healthy)"). */
export function healthFromStatus(status: string): (typeof HEALTH_STATES)[number] {
  if (/\(healthy\)/.test(status)) return "healthy";
  if (/\(unhealthy\)/.test(status)) return "unhealthy";
  if (/\(health: starting\)/.test(status)) return "starting";
  return "none";
}

/** A fresh registry holding the scrape's series. */
export function buildScrapeRegistry(state: ScrapeState): Registry {
  const registry = new Registry();
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });

  const up = gauge("berth_host_up", "1 when the host is reachable over SSH and its agent answers, else 0.", ["host"]);
  const reachable = gauge("berth_host_reachable", "1 when the gateway's SSH connection to the host is up, else 0.", ["host"]);
  const linkState = gauge("berth_host_connection_state", "The host's SSH connection state: 1 for the current state, 0 for the others.", ["host", "state"]);
  const reconnects = counter("berth_host_ssh_reconnects_total", "Times the SSH connection came back after it was lost, since this gateway started.", ["host"]);
  const agentInfo = gauge("berth_host_agent_info", "The agent version the host runs (always 1).", ["host", "version"]);
  const byState = gauge("berth_host_containers", "Containers on the host by state, from the last list the agent sent.", ["host", "state"]);
  const load1 = gauge("berth_host_load1", "The host's 1-minute load average, last sampled.", ["host"]);
  const memRatio = gauge("berth_host_memory_used_ratio", "Share of the host's memory in use (0-1), last sampled.", ["host"]);
  const cpus = gauge("berth_host_cpus", "CPUs the host has.", ["host"]);
  const cpuRatio = gauge("berth_host_cpu_usage_ratio", "Busy share of all the host's CPUs (0-1) over the last stats interval.", ["host"]);
  const memUsed = gauge("berth_host_memory_used_bytes", "Memory in use on the host.", ["host"]);
  const memTotal = gauge("berth_host_memory_total_bytes", "Memory the host has.", ["host"]);
  const diskSize = gauge("berth_host_disk_size_bytes", "Size of a filesystem: the agent's state root (mount=state) or a volume's (mount=volume:<name>).", ["host", "mount"]);
  const diskUsed = gauge("berth_host_disk_used_bytes", "Bytes used on a filesystem: the agent's state root (mount=state) or a volume's (mount=volume:<name>).", ["host", "mount"]);

  const running = gauge("berth_container_running", "1 when the container is running, else 0.", CONTAINER_LABELS);
  const health = gauge("berth_container_health", "The container's health: 1 for the current state (none: no health check), 0 for the others.", [...CONTAINER_LABELS, "health"]);
  const cpuSeconds = counter("berth_container_cpu_seconds_total", "CPU time the container used (user + system).", CONTAINER_LABELS);
  const memUsage = gauge("berth_container_memory_usage_bytes", "Memory the container's cgroup uses.", CONTAINER_LABELS);
  const memLimit = gauge("berth_container_memory_limit_bytes", "The container's memory limit (absent without one).", CONTAINER_LABELS);
  const rx = counter("berth_container_network_receive_bytes_total", "Bytes the container received on its networks.", CONTAINER_LABELS);
  const tx = counter("berth_container_network_transmit_bytes_total", "Bytes the container sent on its networks.", CONTAINER_LABELS);
  const blockRead = counter("berth_container_block_read_bytes_total", "Bytes the container read from block devices.", CONTAINER_LABELS);
  const blockWrite = counter("berth_container_block_write_bytes_total", "Bytes the container wrote to block devices.", CONTAINER_LABELS);
  const restarts = counter("berth_container_restarts_total", "Times the engine restarted the container (its restart policy).", CONTAINER_LABELS);
  const ooms = counter("berth_container_oom_kills_total", "Processes of the container the OOM killer killed since it started.", CONTAINER_LABELS);

  for (const h of state.hosts) {
    const host = h.name;
    const s = h.snapshot;
    const current = s?.state ?? "pending";
    up.set({ host }, current === "connected" && s?.agent === "ok" ? 1 : 0);
    reachable.set({ host }, current === "connected" ? 1 : 0);
    for (const st of LINK_STATES) linkState.set({ host, state: st }, st === current ? 1 : 0);
    reconnects.inc({ host }, state.reconnects.get(h.id) ?? 0);
    if (s?.agentVersion) agentInfo.set({ host, version: s.agentVersion }, 1);
    const last = s?.samples.at(-1);
    if (last) {
      load1.set({ host }, last.load);
      memRatio.set({ host }, last.memory);
    }
    const hs = state.hostSamples.get(h.id);
    if (hs) {
      cpus.set({ host }, hs.cpus);
      cpuRatio.set({ host }, hs.cpuPercent / 100);
      memUsed.set({ host }, hs.memoryBytes);
      memTotal.set({ host }, hs.memoryTotalBytes);
      for (const d of hs.disks) {
        diskSize.set({ host, mount: d.mount }, d.sizeBytes);
        diskUsed.set({ host, mount: d.mount }, d.usedBytes);
      }
    }

    // Containers: those in the last list (a host never listed has none to show).
    const containers = s?.containers;
    if (!containers) continue;
    const counts = new Map<string, number>(CONTAINER_STATES.map((st) => [st, 0]));
    for (const c of containers) {
      const known = counts.has(c.State);
      if (known) counts.set(c.State, counts.get(c.State)! + 1);
      const labels = containerLabels(host, c);
      const isRunning = c.State === "running";
      running.set(labels, isRunning ? 1 : 0);
      // A sample is only trusted for a container the last list still shows running (the stats pass may lag a removal).
      const sample = isRunning ? state.containerSamples.get(`${h.id}/${c.Id}`) : undefined;
      const current = sample && (HEALTH_STATES as readonly string[]).includes(sample.health) ? sample.health : healthFromStatus(c.Status);
      for (const st of HEALTH_STATES) health.set({ ...labels, health: st }, st === current ? 1 : 0);
      if (!sample) continue;
      cpuSeconds.inc(labels, nonNegative(sample.cpuSecondsTotal));
      memUsage.set(labels, sample.memoryBytes);
      if (sample.memoryLimitBytes !== null) memLimit.set(labels, sample.memoryLimitBytes);
      rx.inc(labels, nonNegative(sample.netRxBytes));
      tx.inc(labels, nonNegative(sample.netTxBytes));
      blockRead.inc(labels, nonNegative(sample.blockReadBytes));
      blockWrite.inc(labels, nonNegative(sample.blockWriteBytes));
      restarts.inc(labels, nonNegative(sample.restartCount));
      ooms.inc(labels, nonNegative(sample.oomKills));
    }
    for (const [st, n] of counts) byState.set({ host, state: st }, n);
  }

  if (state.alertsFiring) {
    const firing = gauge("berth_alerts_firing", "Alerts firing now, by severity (across all gateways: read from the database).", ["severity"]);
    for (const severity of SEVERITIES) firing.set({ severity }, state.alertsFiring[severity] ?? 0);
  }
  return registry;
}

const nonNegative = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
