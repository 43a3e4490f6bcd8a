import { describe, expect, it } from "vitest";
import { containerCpuPercent, cpuPercentOfLimit, hostCpuPercent, minuteOf, pruneCutoff, usedPercent } from "@/server/stats/sample-math";
import { hostCpu } from "@/agent/api/bulk-stats";

describe("minute alignment", () => {
  it("floors to the start of the minute, in UTC", () => {
    expect(minuteOf(new Date("2026-12-07T04:05:59.999Z")).toISOString()).toBe("2026-12-07T04:05:00.000Z");
    expect(minuteOf(new Date("2026-12-07T04:05:00.000Z")).toISOString()).toBe("2026-12-07T04:05:00.000Z");
    expect(minuteOf(new Date("2026-12-07T23:59:30.000+02:00")).toISOString()).toBe("2026-12-07T21:59:00.000Z");
  });
});

describe("CPU % from cumulative counters", () => {
  it("is 100 for one CPU busy the whole interval, as docker stats shows it", () => {
    expect(containerCpuPercent({ cpuNanos: 5e9, atMs: 10_000 }, { cpuNanos: 7e9, atMs: 12_000 })).toBeCloseTo(100);
    expect(containerCpuPercent({ cpuNanos: 0, atMs: 0 }, { cpuNanos: 3e9, atMs: 1_000 })).toBeCloseTo(300);
    expect(containerCpuPercent({ cpuNanos: 0, atMs: 0 }, { cpuNanos: 15e9, atMs: 60_000 })).toBeCloseTo(25);
  });

  it("is 0 without a usable earlier reading", () => {
    expect(containerCpuPercent(undefined, { cpuNanos: 9e9, atMs: 1 })).toBe(0);
    // The counter went back: the container restarted.
    expect(containerCpuPercent({ cpuNanos: 9e9, atMs: 0 }, { cpuNanos: 1e9, atMs: 1_000 })).toBe(0);
    expect(containerCpuPercent({ cpuNanos: 1e9, atMs: 1_000 }, { cpuNanos: 2e9, atMs: 1_000 })).toBe(0);
  });

  it("relates to the container's CPU limit, else to all the host's CPUs, within 0–100", () => {
    expect(cpuPercentOfLimit(50, 0.5, 8)).toBe(100);
    expect(cpuPercentOfLimit(100, 2, 8)).toBe(50);
    expect(cpuPercentOfLimit(100, null, 4)).toBe(25);
    expect(cpuPercentOfLimit(400, 1, 4)).toBe(100);
    expect(cpuPercentOfLimit(10, null, 0)).toBe(10);
  });

  it("gives the host's busy share from /proc/stat", () => {
    const a = hostCpu("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n");
    const b = hostCpu("cpu  250 0 250 1300 200 0 0 0 0 0\n");
    // 1000 ticks more, of which 700 idle (idle + iowait): 30 % busy.
    expect(hostCpuPercent({ totalNanos: a.total, idleNanos: a.idle }, { totalNanos: b.total, idleNanos: b.idle })).toBeCloseTo(30);
    expect(hostCpuPercent(undefined, { totalNanos: b.total, idleNanos: b.idle })).toBe(0);
    expect(hostCpu("")).toEqual({ total: 0, idle: 0 });
  });

  it("gives a filesystem's used share", () => {
    expect(usedPercent(45, 50)).toBe(90);
    expect(usedPercent(1, 0)).toBe(0);
  });
});

describe("pruning cut-off", () => {
  it("is 24 hours before now", () => {
    expect(pruneCutoff(new Date("2026-12-07T04:00:00Z")).toISOString()).toBe("2026-12-06T04:00:00.000Z");
    expect(pruneCutoff(new Date("2026-12-07T04:00:00Z"), 1).toISOString()).toBe("2026-12-07T03:00:00.000Z");
  });
});
