import { afterEach, describe, expect, it } from "vitest";
import { onSignal, type AlertSignal } from "@/server/alerts/signals";
import type { AgentBulkStats } from "@/server/stats/bulk-types";
import { StatsCollector } from "@/server/stats/collector";
import { forgetLatest, latestHostSamples, latestSamples } from "@/server/stats/latest";

// The collector's bookkeeping against stand-ins: a reading becomes rows, the
// latest samples and signals; CPU % comes from the previous reading.

function answer(cpuNanos: number, at: string, containers = true): AgentBulkStats {
  return {
    at,
    host: { cpus: 4, cpuTotalNanos: 1e12 + cpuNanos * 4, cpuIdleNanos: 1e12, memoryTotalBytes: 8e9, memoryAvailableBytes: 6e9 },
    containers: containers
      ? [
          {
            id: "c1",
            name: "web",
            image: "nginx:1",
            labels: { "com.docker.compose.service": "web" },
            cpuNanos,
            cpuLimit: 0.5,
            memoryBytes: 100,
            memoryLimitBytes: 400,
            netRxBytes: 10,
            netTxBytes: 20,
            blockReadBytes: 30,
            blockWriteBytes: 40,
            restartCount: 2,
            health: "healthy",
            oomKills: 1,
          },
        ]
      : [],
    disks: [{ mount: "state", path: "/var/lib/berth", sizeBytes: 100, usedBytes: 91 }],
  };
}

function fakes() {
  const writes: unknown[][] = [];
  const db = { $executeRaw: (_s: TemplateStringsArray, ...values: unknown[]) => (writes.push(values), Promise.resolve(0)) } as never;
  const fleet = { snapshot: () => ({ state: "connected", agent: "ok" }), client: () => ({}) } as never;
  return { writes, collector: new StatsCollector(fleet, db, () => undefined) };
}

describe("StatsCollector.record", () => {
  afterEach(() => forgetLatest("h1"));

  it("turns readings into rows, latest samples and signals", async () => {
    const { writes, collector } = fakes();
    const signals: AlertSignal[] = [];
    const off = onSignal((s) => signals.push(s));
    try {
      expect(await collector.record("h1", "one", answer(0, "2026-12-07T04:00:00.000Z"))).toBe(2);
      // Half a CPU for 10 s: 50 % as docker shows it, 100 % of its 0.5-CPU limit.
      await collector.record("h1", "one", answer(5e9, "2026-12-07T04:00:10.000Z"));
    } finally {
      off();
    }
    expect(writes).toHaveLength(2);
    const latest = latestSamples().get("h1/c1")!;
    expect(latest).toMatchObject({ name: "web", image: "nginx:1", cpuSecondsTotal: 5, restartCount: 2, health: "healthy", oomKills: 1, memoryLimitBytes: 400 });
    expect(latest.cpuPercent).toBeCloseTo(50);
    expect(latest.cpuPercentOfLimit).toBeCloseTo(100);
    const host = latestHostSamples().get("h1")!;
    expect(host.memoryBytes).toBe(2e9);
    expect(host.disks[0]).toMatchObject({ mount: "state", usedPercent: 91 });
    const usage = signals.filter((s) => s.type === "usage.sample");
    expect(usage).toHaveLength(2);
    expect(usage[1]).toMatchObject({ hostId: "h1", containerId: "c1", memoryBytes: 100, memoryLimitBytes: 400 });
    expect(signals.filter((s) => s.type === "disk.usage")[0]).toMatchObject({ mount: "state", usedPercent: 91 });
  });

  it("drops containers that stopped from the latest samples", async () => {
    const { collector } = fakes();
    await collector.record("h1", "one", answer(0, "2026-12-07T04:00:00.000Z"));
    expect(latestSamples().has("h1/c1")).toBe(true);
    await collector.record("h1", "one", answer(0, "2026-12-07T04:01:00.000Z", false));
    expect(latestSamples().has("h1/c1")).toBe(false);
    expect(latestHostSamples().has("h1")).toBe(true);
  });
});
