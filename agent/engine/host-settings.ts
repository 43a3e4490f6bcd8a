import type { HostSettings, RestartPolicy } from "./container-store";
import type { ApiMount } from "../../lib/docker/mounts";

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
    // Only when given: records and views of containers without it stay as they were.
    ...(strs(hostConfig.VolumesFrom).length ? { VolumesFrom: strs(hostConfig.VolumesFrom) } : {}),
  };
}
