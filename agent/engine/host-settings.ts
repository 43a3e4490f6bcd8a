import type { HostSettings, RestartPolicy } from "./container-store";
import type { ApiMount } from "../../lib/docker/mounts";
import type { ResourcesInput } from "../runtime/spec-types";

// HostConfig as the client sent it (nulls and all) → the settings we keep.
// Validation of types and ranges happened in create-request.ts.

type Loose = Record<string, unknown>;

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown) => (typeof v === "string" ? v : "");
const strs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

export function hostSettingsFrom(hostConfig: Loose): HostSettings {
  const restart = (hostConfig.RestartPolicy ?? {}) as Loose;
  const name = str(restart.Name) as RestartPolicy["Name"];
  const ulimits = Array.isArray(hostConfig.Ulimits) ? (hostConfig.Ulimits as Loose[]) : [];
  const consoleSize = Array.isArray(hostConfig.ConsoleSize) ? (hostConfig.ConsoleSize as unknown[]) : [];
  const logConfig = (hostConfig.LogConfig ?? {}) as Loose;
  return {
    Privileged: hostConfig.Privileged === true,
    CapAdd: strs(hostConfig.CapAdd),
    CapDrop: strs(hostConfig.CapDrop),
    ReadonlyRootfs: hostConfig.ReadonlyRootfs === true,
    SecurityOpt: strs(hostConfig.SecurityOpt),
    Memory: num(hostConfig.Memory),
    MemorySwap: num(hostConfig.MemorySwap),
    MemoryReservation: num(hostConfig.MemoryReservation),
    NanoCpus: num(hostConfig.NanoCpus),
    CpuShares: num(hostConfig.CpuShares),
    CpuPeriod: num(hostConfig.CpuPeriod),
    CpuQuota: num(hostConfig.CpuQuota),
    CpusetCpus: str(hostConfig.CpusetCpus),
    CpusetMems: str(hostConfig.CpusetMems),
    PidsLimit: num(hostConfig.PidsLimit),
    ShmSize: num(hostConfig.ShmSize),
    Ulimits: ulimits.map((u) => ({ Name: str(u.Name), Soft: num(u.Soft), Hard: num(u.Hard) })),
    RestartPolicy: { Name: name || "no", MaximumRetryCount: num(restart.MaximumRetryCount) },
    AutoRemove: hostConfig.AutoRemove === true,
    NetworkMode: str(hostConfig.NetworkMode) || "default",
    Binds: strs(hostConfig.Binds),
    PortBindings: (hostConfig.PortBindings ?? {}) as HostSettings["PortBindings"],
    Dns: strs(hostConfig.Dns),
    DnsSearch: strs(hostConfig.DnsSearch),
    DnsOptions: strs(hostConfig.DnsOptions),
    ExtraHosts: strs(hostConfig.ExtraHosts),
    ConsoleSize: [num(consoleSize[0]), num(consoleSize[1])],
    LogConfig: { Type: str(logConfig.Type) || "k8s-file", Config: (logConfig.Config ?? {}) as Record<string, string> },
    PublishAllPorts: hostConfig.PublishAllPorts === true,
    Links: strs(hostConfig.Links),
    Tmpfs: (hostConfig.Tmpfs && typeof hostConfig.Tmpfs === "object" ? hostConfig.Tmpfs : {}) as Record<string, string>,
    Mounts: Array.isArray(hostConfig.Mounts) ? (hostConfig.Mounts as ApiMount[]) : [],
    // Only when given (and BlkioWeight only ever by docker update, where the host can weigh I/O):
    // records and views of containers without them stay as they were.
    ...(strs(hostConfig.VolumesFrom).length ? { VolumesFrom: strs(hostConfig.VolumesFrom) } : {}),
  };
}

/** The cgroup limits a container's settings ask for, as the runtime spec takes them (at every start and on update). */
export function resourcesOf(host: HostSettings): ResourcesInput {
  return {
    memory: host.Memory || undefined,
    memorySwap: host.MemorySwap || undefined,
    memoryReservation: host.MemoryReservation || undefined,
    nanoCpus: host.NanoCpus || undefined,
    cpuShares: host.CpuShares || undefined,
    cpuPeriod: host.CpuPeriod || undefined,
    cpuQuota: host.CpuQuota || undefined,
    cpusetCpus: host.CpusetCpus || undefined,
    cpusetMems: host.CpusetMems || undefined,
    pidsLimit: host.PidsLimit > 0 ? host.PidsLimit : undefined,
    blkioWeight: host.BlkioWeight || undefined,
  };
}

/**
 * docker update (POST /containers/{id}/update): what may change, with Go's
 * zero values meaning "leave as it is" (PidsLimit: absent). Validated for
 * ranges by then (lib/docker/create-request.ts with `update`).
 */
export interface ContainerUpdate {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number;
  BlkioWeight?: number;
  RestartPolicy?: RestartPolicy;
}

/** A refusal of docker update, in dockerd's words (its container.UpdateContainer). */
export class UpdateConflict extends Error {
  override name = "UpdateConflict";
}

/**
 * The settings after an update, as moby's container.UpdateContainer merges
 * them: what the update gives replaces what was there, except where dockerd
 * refuses the mix (CPU period/quota against --cpus, a memory limit above the
 * swap limit already set, a restart policy on an --rm container). A memory
 * limit set at create without a swap limit had swap = 2 × memory (dockerd
 * stores it so): that is what an update is held to, and keeps.
 */
export function applyUpdate(current: HostSettings, u: ContainerUpdate): HostSettings {
  const next: HostSettings = { ...current };
  if ((u.NanoCpus ?? 0) > 0 && current.CpuPeriod > 0) throw new UpdateConflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  if ((u.NanoCpus ?? 0) > 0 && current.CpuQuota > 0) throw new UpdateConflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  if ((u.CpuPeriod ?? 0) > 0 && current.NanoCpus > 0) throw new UpdateConflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  if ((u.CpuQuota ?? 0) > 0 && current.NanoCpus > 0) throw new UpdateConflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  if (u.BlkioWeight) next.BlkioWeight = u.BlkioWeight;
  if (u.CpuShares) next.CpuShares = u.CpuShares;
  if (u.NanoCpus) next.NanoCpus = u.NanoCpus;
  if (u.CpuPeriod) next.CpuPeriod = u.CpuPeriod;
  if (u.CpuQuota) next.CpuQuota = u.CpuQuota;
  if (u.CpusetCpus) next.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) next.CpusetMems = u.CpusetMems;
  const swapNow = current.MemorySwap || (current.Memory > 0 ? current.Memory * 2 : 0);
  if (u.Memory) {
    if (u.Memory > swapNow && !u.MemorySwap) throw new UpdateConflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    next.Memory = u.Memory;
    next.MemorySwap = swapNow;
  }
  if (u.MemorySwap) next.MemorySwap = u.MemorySwap;
  if (u.MemoryReservation) next.MemoryReservation = u.MemoryReservation;
  if (u.PidsLimit !== undefined) next.PidsLimit = u.PidsLimit;
  if (u.RestartPolicy && u.RestartPolicy.Name) {
    if (current.AutoRemove && u.RestartPolicy.Name !== "no") throw new UpdateConflict("Restart policy cannot be updated because AutoRemove is enabled for the container");
    next.RestartPolicy = { Name: u.RestartPolicy.Name, MaximumRetryCount: u.RestartPolicy.MaximumRetryCount };
  }
  return next;
}
