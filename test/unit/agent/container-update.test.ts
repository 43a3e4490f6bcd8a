import { describe, expect, it } from "vitest";
import { applyUpdate, hostSettingsFrom, resourcesOf } from "../../../agent/engine/host-settings";
import { buildResources } from "../../../agent/runtime/resources";

// docker update's merge, as moby's container.UpdateContainer does it.

const MIB = 1024 * 1024;

describe("applyUpdate", () => {
  it("replaces what is given, keeps the rest; a create-time -m had swap = 2 × memory, which stays", () => {
    const current = hostSettingsFrom({ Memory: 64 * MIB, CpuShares: 512, RestartPolicy: { Name: "no" } });
    const next = applyUpdate(current, { Memory: 96 * MIB, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 } });
    expect(next).toMatchObject({ Memory: 96 * MIB, MemorySwap: 128 * MIB, CpuShares: 512, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 } });
    expect(buildResources(resourcesOf(next)).memory).toEqual({ limit: 96 * MIB, swap: 128 * MIB });
    // Zero values and an empty policy name change nothing.
    expect(applyUpdate(current, { Memory: 0, CpuShares: 0, RestartPolicy: { Name: "", MaximumRetryCount: 0 } })).toEqual(current);
  });

  it("refuses what dockerd refuses", () => {
    const limited = hostSettingsFrom({ Memory: 64 * MIB });
    expect(() => applyUpdate(limited, { Memory: 256 * MIB })).toThrow("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    expect(applyUpdate(limited, { Memory: 256 * MIB, MemorySwap: 512 * MIB })).toMatchObject({ Memory: 256 * MIB, MemorySwap: 512 * MIB });
    // No memory limit yet: dockerd wants the swap limit along with it.
    expect(() => applyUpdate(hostSettingsFrom({}), { Memory: 64 * MIB })).toThrow(/memoryswap/);
    expect(() => applyUpdate(hostSettingsFrom({ NanoCpus: 5e8 }), { CpuQuota: 20000 })).toThrow("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
    expect(() => applyUpdate(hostSettingsFrom({ CpuPeriod: 50000 }), { NanoCpus: 5e8 })).toThrow("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
    expect(() => applyUpdate(hostSettingsFrom({ AutoRemove: true }), { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } })).toThrow("Restart policy cannot be updated because AutoRemove is enabled for the container");
    expect(applyUpdate(hostSettingsFrom({ AutoRemove: true }), { RestartPolicy: { Name: "no", MaximumRetryCount: 0 } }).RestartPolicy.Name).toBe("no");
  });

  it("pids: a given value replaces, absent keeps", () => {
    const current = hostSettingsFrom({ PidsLimit: 100 });
    expect(applyUpdate(current, {}).PidsLimit).toBe(100);
    expect(applyUpdate(current, { PidsLimit: -1 }).PidsLimit).toBe(-1);
    expect(resourcesOf(applyUpdate(current, { PidsLimit: -1 })).pidsLimit).toBeUndefined();
  });
});
