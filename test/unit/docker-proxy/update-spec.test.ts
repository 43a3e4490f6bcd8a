import { describe, expect, it } from "vitest";
import { limitsAfterUpdate, parseUpdateBody } from "../../../server/docker-proxy/update-spec";

// docker update's body through the proxy: only set values count (the CLI
// sends every field), the policy's business is the limits after the update.

/** What docker CLI 28 sends for `docker update --memory 64m --restart always`. */
const cliBody = (set: Record<string, unknown>) => ({
  BlkioWeight: 0, BlkioWeightDevice: null, BlkioDeviceReadBps: null, BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null,
  CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: "", CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: "", CpusetMems: "",
  Devices: null, DeviceCgroupRules: null, DeviceRequests: null, KernelMemory: 0, KernelMemoryTCP: 0, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null,
  OomKillDisable: null, PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
  RestartPolicy: { Name: "", MaximumRetryCount: 0 },
  ...set,
});

describe("parseUpdateBody", () => {
  it("keeps what is set, as forwarded, and summarises it for the audit", () => {
    const u = parseUpdateBody(cliBody({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 } }));
    expect(u.body).toEqual({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 } });
    expect(u.summary).toEqual({ memoryBytes: 64 * 1024 * 1024, cpus: 0.5, restartPolicy: "on-failure:3" });
  });

  it.each([
    [{ CgroupParent: "/" }, /CgroupParent/],
    [{ Devices: [{ PathOnHost: "/dev/sda" }] }, /Devices/],
    [{ DeviceRequests: [{ Count: -1 }] }, /--gpus/],
    [{ OomKillDisable: true }, /OomKillDisable/],
    [{ BlkioDeviceReadBps: [{ Path: "/dev/sda", Rate: 1 }] }, /device-read-bps/],
  ])("refuses what reaches the host beyond the policy: %j", (set, message) => {
    expect(() => parseUpdateBody(cliBody(set))).toThrow(message);
  });

  it.each([
    [{ memory: 1 }, /use Memory/],
    [{ Privileged: true }, /not an update setting/],
    [{ Memory: "1g" }, /invalid Memory/],
    [{ RestartPolicy: { Name: "sometimes" } }, /invalid RestartPolicy/],
  ])("refuses a malformed body: %j", (body, message) => {
    expect(() => parseUpdateBody(body)).toThrow(message);
  });
});

describe("limitsAfterUpdate", () => {
  it("takes what the update sets, and keeps the container's own otherwise", () => {
    expect(limitsAfterUpdate({ Memory: 128, NanoCpus: 2e9 }, { Memory: 256 })).toEqual({ memoryBytes: 256, cpus: 2 });
    expect(limitsAfterUpdate({ Memory: 128, NanoCpus: 2e9 }, { NanoCpus: 1e9 })).toEqual({ memoryBytes: 128, cpus: 1 });
    expect(limitsAfterUpdate({ CpuQuota: 50_000, CpuPeriod: 100_000 }, {})).toEqual({ cpus: 0.5 });
    expect(limitsAfterUpdate({ CpuQuota: 50_000 }, { CpuPeriod: 25_000 })).toEqual({ cpus: 2 });
    expect(limitsAfterUpdate({}, { CpuQuota: 300_000 })).toEqual({ cpus: 3 });
    expect(limitsAfterUpdate({ Memory: 0 }, { RestartPolicy: { Name: "always" } })).toEqual({});
  });
});
