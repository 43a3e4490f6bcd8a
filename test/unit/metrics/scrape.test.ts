import { describe, expect, it } from "vitest";
import type { ContainerSummary } from "../../../server/fleet/agent/types";
import type { HostSnapshot } from "../../../server/fleet/fleet";
import { buildScrapeRegistry, type ContainerSampleView, healthFromStatus, type ScrapeState } from "../../../server/metrics/scrape";
import { family, parsePrometheus, samples } from "../../fixtures/prometheus-text";

// The scrape's collectors over synthetic state: what a host and its
// containers look like in the exposition, and what is left out.

function container(id: string, name: string, state: string, extra: Partial<ContainerSummary> = {}): ContainerSummary {
  return { Id: id, Names: [`/${name}`], Image: "registry.test/app:1", Created: 0, State: state, Status: state === "running" ? "Up 2 minutes" : "Exited (1)", ...extra };
}

function snapshot(hostId: string, patch: Partial<HostSnapshot>): HostSnapshot {
  return { hostId, state: "connected", message: null, agent: "ok", agentVersion: "0.9.1", containers: [], containersAt: new Date(), factsAt: null, samples: [], stale: false, ...patch };
}

function sample(hostId: string, containerId: string, patch: Partial<ContainerSampleView> = {}): ContainerSampleView {
  return {
    hostId,
    containerId,
    cpuSecondsTotal: 12.5,
    memoryBytes: 50 * 2 ** 20,
    memoryLimitBytes: 128 * 2 ** 20,
    netRxBytes: 1000,
    netTxBytes: 2000,
    blockReadBytes: 4096,
    blockWriteBytes: 8192,
    restartCount: 3,
    health: "healthy",
    oomKills: 1,
    ...patch,
  };
}

const web = container("c-web", "web", "running", { Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "web" } });
const job = container("c-job", "job", "exited");
const bare = container("c-bare", "bare", "running", { Status: "Up 1 minute (unhealthy)" });

function state(): ScrapeState {
  return {
    hosts: [
      { id: "h1", name: "alpha", snapshot: snapshot("h1", { containers: [web, job, bare], samples: [{ at: new Date(), load: 0.42, memory: 0.5 }] }) },
      { id: "h2", name: "beta", snapshot: snapshot("h2", { state: "unreachable", agent: "unknown", agentVersion: null, containers: null }) },
      { id: "h3", name: "gamma", snapshot: null },
    ],
    containerSamples: new Map([
      ["h1/c-web", sample("h1", "c-web")],
      // Gone from the host's last list: must not be shown.
      ["h1/c-gone", sample("h1", "c-gone")],
    ]),
    hostSamples: new Map([["h1", { hostId: "h1", cpus: 4, cpuPercent: 25, memoryBytes: 1e9, memoryTotalBytes: 4e9, disks: [{ mount: "state", sizeBytes: 1e10, usedBytes: 2e9 }] }]]),
    reconnects: new Map([["h1", 2]]),
    alertsFiring: { critical: 1 },
  };
}

async function scrape(s: ScrapeState) {
  const text = await buildScrapeRegistry(s).metrics();
  return { text, families: parsePrometheus(text) };
}

describe("the scrape's series", () => {
  it("hosts: up, reachable, link state, reconnects, agent version, containers by state, CPU, memory, disk", async () => {
    const { families } = await scrape(state());
    expect(samples(families, "berth_host_up").map((m) => [m.labels!.host, m.value])).toEqual([
      ["alpha", "1"],
      ["beta", "0"],
      ["gamma", "0"],
    ]);
    expect(samples(families, "berth_host_reachable", { host: "beta" })[0]!.value).toBe("0");
    expect(samples(families, "berth_host_connection_state", { host: "beta", state: "unreachable" })[0]!.value).toBe("1");
    expect(samples(families, "berth_host_connection_state", { host: "beta", state: "connected" })[0]!.value).toBe("0");
    expect(samples(families, "berth_host_connection_state", { host: "gamma", state: "pending" })[0]!.value).toBe("1");
    expect(samples(families, "berth_host_ssh_reconnects_total", { host: "alpha" })[0]!.value).toBe("2");
    expect(family(families, "berth_host_ssh_reconnects_total")!.type).toBe("COUNTER");
    expect(samples(families, "berth_host_agent_info").map((m) => m.labels)).toEqual([{ host: "alpha", version: "0.9.1" }]);
    expect(samples(families, "berth_host_containers", { host: "alpha", state: "running" })[0]!.value).toBe("2");
    expect(samples(families, "berth_host_containers", { host: "alpha", state: "exited" })[0]!.value).toBe("1");
    expect(samples(families, "berth_host_containers", { host: "alpha", state: "paused" })[0]!.value).toBe("0");
    expect(samples(families, "berth_host_containers", { host: "beta" })).toEqual([]);
    expect(samples(families, "berth_host_load1", { host: "alpha" })[0]!.value).toBe("0.42");
    expect(samples(families, "berth_host_cpu_usage_ratio", { host: "alpha" })[0]!.value).toBe("0.25");
    expect(samples(families, "berth_host_memory_total_bytes", { host: "alpha" })[0]!.value).toBe("4000000000");
    expect(samples(families, "berth_host_disk_used_bytes", { host: "alpha", mount: "state" })[0]!.value).toBe("2000000000");
  });

  it("containers: labelled by host, name, image, stack and service; usage from the latest sample", async () => {
    const { families } = await scrape(state());
    const webLabels = { host: "alpha", name: "web", image: "registry.test/app:1", stack: "shop", service: "web" };
    expect(samples(families, "berth_container_cpu_seconds_total").map((m) => m.labels)).toEqual([webLabels]);
    expect(samples(families, "berth_container_cpu_seconds_total", webLabels)[0]!.value).toBe("12.5");
    expect(samples(families, "berth_container_memory_usage_bytes", webLabels)[0]!.value).toBe(String(50 * 2 ** 20));
    expect(samples(families, "berth_container_memory_limit_bytes", webLabels)[0]!.value).toBe(String(128 * 2 ** 20));
    expect(samples(families, "berth_container_network_receive_bytes_total", webLabels)[0]!.value).toBe("1000");
    expect(samples(families, "berth_container_network_transmit_bytes_total", webLabels)[0]!.value).toBe("2000");
    expect(samples(families, "berth_container_block_read_bytes_total", webLabels)[0]!.value).toBe("4096");
    expect(samples(families, "berth_container_block_write_bytes_total", webLabels)[0]!.value).toBe("8192");
    expect(samples(families, "berth_container_restarts_total", webLabels)[0]!.value).toBe("3");
    expect(samples(families, "berth_container_oom_kills_total", webLabels)[0]!.value).toBe("1");
    expect(samples(families, "berth_container_health", { ...webLabels, health: "healthy" })[0]!.value).toBe("1");
    expect(samples(families, "berth_container_health", { ...webLabels, health: "unhealthy" })[0]!.value).toBe("0");
    // Without a sample, health still comes from the list's status; not running: running 0.
    expect(samples(families, "berth_container_health", { name: "bare", health: "unhealthy" })[0]!.value).toBe("1");
    expect(samples(families, "berth_container_running", { name: "job", stack: "", service: "" })[0]!.value).toBe("0");
    expect(samples(families, "berth_container_running", { name: "web" })[0]!.value).toBe("1");
  });

  it("a container gone from the host's list has no series, even with a sample left over", async () => {
    const { text } = await scrape(state());
    expect(text).not.toContain("c-gone");
    const s = state();
    s.hosts[0]!.snapshot!.containers = [job];
    const { families } = await scrape(s);
    expect(samples(families, "berth_container_running", { name: "web" })).toEqual([]);
    expect(samples(families, "berth_container_cpu_seconds_total")).toEqual([]);
  });

  it("no memory limit: no limit series; alerts firing per severity, zero included", async () => {
    const s = state();
    s.containerSamples = new Map([["h1/c-web", sample("h1", "c-web", { memoryLimitBytes: null })]]);
    const { families } = await scrape(s);
    expect(samples(families, "berth_container_memory_limit_bytes")).toEqual([]);
    expect(samples(families, "berth_alerts_firing").map((m) => [m.labels!.severity, m.value])).toEqual([
      ["info", "0"],
      ["warning", "0"],
      ["critical", "1"],
    ]);
    s.alertsFiring = null;
    expect(family((await scrape(s)).families, "berth_alerts_firing")).toBeUndefined();
  });

  it("every family has HELP and TYPE lines; label values are escaped", async () => {
    const s = state();
    s.hosts[0]!.snapshot!.containers = [container("c-q", 'odd"name\\x', "running", { Image: "img\nnext" })];
    const { text, families } = await scrape(s);
    for (const f of families) {
      expect(text).toContain(`# HELP ${f.name} `);
      expect(text).toMatch(new RegExp(`# TYPE ${f.name} (counter|gauge)\\n`));
    }
    expect(samples(families, "berth_container_running")[0]!.labels).toMatchObject({ name: 'odd"name\\x', image: "img\nnext" });
  });

  it("health parsed from docker's status text", () => {
    expect(healthFromStatus("Up 3 minutes (healthy)")).toBe("healthy");
    expect(healthFromStatus("Up 3 minutes (unhealthy)")).toBe("unhealthy");
    expect(healthFromStatus("Up 1 second (health: starting)")).toBe("starting");
    expect(healthFromStatus("Up 3 minutes")).toBe("none");
  });
});
