import { afterEach, describe, expect, it } from "vitest";
import { buildScrapeRegistry } from "../../../server/metrics/scrape";
import { latestStats } from "../../../server/metrics/stats-source";
import { forgetLatest, type LatestContainerSample, recordLatest } from "../../../server/stats/latest";
import { parsePrometheus, samples } from "../../fixtures/prometheus-text";

// /metrics reads the stats collector's latest samples (server/stats/latest.ts);
// without a collector, none.

afterEach(() => forgetLatest("h1"));

describe("the stats collector's latest samples", () => {
  it("none without a collector", () => {
    const s = latestStats();
    expect(s.containers.size).toBe(0);
    expect(s.hosts.size).toBe(0);
  });

  it("what the collector recorded becomes the container's usage series", async () => {
    const sample: LatestContainerSample = {
      hostId: "h1",
      hostName: "alpha",
      containerId: "c1",
      name: "web",
      image: "app:1",
      labels: {},
      at: new Date(),
      cpuSecondsTotal: 3.25,
      cpuPercent: 10,
      cpuPercentOfLimit: 20,
      memoryBytes: 1024,
      memoryLimitBytes: 4096,
      netRxBytes: 1,
      netTxBytes: 2,
      blockReadBytes: 3,
      blockWriteBytes: 4,
      restartCount: 0,
      health: "none",
      oomKills: 2,
    };
    recordLatest({ hostId: "h1", hostName: "alpha", at: new Date(), cpus: 2, cpuPercent: 50, memoryBytes: 1, memoryTotalBytes: 2, disks: [] }, [sample]);
    const stats = latestStats();
    const text = await buildScrapeRegistry({
      hosts: [
        {
          id: "h1",
          name: "alpha",
          snapshot: {
            hostId: "h1",
            state: "connected",
            message: null,
            agent: "ok",
            agentVersion: "1",
            containers: [{ Id: "c1", Names: ["/web"], Image: "app:1", Created: 0, State: "running", Status: "Up" }],
            containersAt: null,
            factsAt: null,
            samples: [],
            stale: false,
          },
        },
      ],
      containerSamples: stats.containers,
      hostSamples: stats.hosts,
      reconnects: new Map(),
      alertsFiring: {},
    }).metrics();
    const families = parsePrometheus(text);
    expect(samples(families, "berth_container_cpu_seconds_total", { host: "alpha", name: "web" })[0]!.value).toBe("3.25");
    expect(samples(families, "berth_container_oom_kills_total", { name: "web" })[0]!.value).toBe("2");
    expect(samples(families, "berth_host_cpu_usage_ratio", { host: "alpha" })[0]!.value).toBe("0.5");
  });
});
