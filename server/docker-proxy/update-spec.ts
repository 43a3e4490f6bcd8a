import "server-only";
import { z } from "zod";
import { CreateBodyError } from "./create-spec";

// POST /containers/{id}/update (docker update, compose's restart policy and
// resource changes): the body's new limits, read strictly. What the deploy
// policy judges (memory and CPUs) and what changes nothing it cares about
// (shares, cpusets, PIDs, the restart policy) is forwarded; settings that
// reach the host beyond the policy's view (devices, device I/O throttles, a
// cgroup parent, realtime CPU, OOM-kill off) are refused when set, as they are
// at create. The docker CLI sends every field, most of them zero or null:
// only set values count.

const int = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);
const unset = (v: unknown) => v === undefined || v === null || v === 0 || v === "" || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** Forwarded when set. */
const UPDATABLE = {
  Memory: int,
  MemorySwap: int,
  MemoryReservation: int,
  MemorySwappiness: int.nullable(),
  KernelMemory: int,
  NanoCpus: int,
  CpuShares: int,
  CpuPeriod: int,
  CpuQuota: int,
  CpusetCpus: z.string().max(256),
  CpusetMems: z.string().max(256),
  PidsLimit: int.nullable(),
  BlkioWeight: z.number().int().min(0).max(1000),
  RestartPolicy: z.strictObject({ Name: z.enum(["", "no", "always", "on-failure", "unless-stopped"]).optional(), MaximumRetryCount: z.number().int().min(0).max(1_000_000).optional() }).nullable(),
} as const;

/** Refused when set: what they do to the host is beyond the deploy policy's rules. */
const REFUSED: Record<string, string> = {
  CgroupParent: "CgroupParent (--cgroup-parent)",
  Devices: "Devices (--device)",
  DeviceCgroupRules: "DeviceCgroupRules (--device-cgroup-rule)",
  DeviceRequests: "DeviceRequests (--gpus)",
  BlkioWeightDevice: "BlkioWeightDevice (--blkio-weight-device)",
  BlkioDeviceReadBps: "BlkioDeviceReadBps (--device-read-bps)",
  BlkioDeviceWriteBps: "BlkioDeviceWriteBps (--device-write-bps)",
  BlkioDeviceReadIOps: "BlkioDeviceReadIOps (--device-read-iops)",
  BlkioDeviceWriteIOps: "BlkioDeviceWriteIOps (--device-write-iops)",
  CpuRealtimePeriod: "CpuRealtimePeriod",
  CpuRealtimeRuntime: "CpuRealtimeRuntime",
  OomKillDisable: "OomKillDisable (--oom-kill-disable)",
  KernelMemoryTCP: "KernelMemoryTCP",
  Ulimits: "Ulimits",
  Init: "Init",
  CpuCount: "CpuCount",
  CpuPercent: "CpuPercent",
  IOMaximumIOps: "IOMaximumIOps",
  IOMaximumBandwidth: "IOMaximumBandwidth",
};

export interface UpdateRequest {
  /** The fields that are set, as they are forwarded. */
  body: Record<string, unknown>;
  /** What the audit record shows. */
  summary: Record<string, unknown>;
}

/** The body, checked; throws CreateBodyError (400) naming the first problem. */
export function parseUpdateBody(parsed: unknown): UpdateRequest {
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new CreateBodyError("invalid body: expected a JSON object");
  const known = [...Object.keys(UPDATABLE), ...Object.keys(REFUSED)];
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const body: Record<string, unknown> = {};
  const refused: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const canonical = byLower.get(key.toLowerCase());
    if (canonical === undefined) throw new CreateBodyError(`invalid ${key}: not an update setting, or not allowed through the Berth Docker-API proxy`);
    // dockerd reads keys case-insensitively, the agent doesn't: no reader may see a setting the policy didn't.
    if (canonical !== key) throw new CreateBodyError(`invalid ${key}: field names are case-sensitive here; use ${canonical}`);
    if (unset(value)) continue;
    if (key in REFUSED) {
      refused.push(REFUSED[key]!);
      continue;
    }
    const checked = UPDATABLE[key as keyof typeof UPDATABLE].safeParse(value);
    if (!checked.success) throw new CreateBodyError(`invalid ${key}: ${checked.error.issues[0]?.message ?? "bad value"}`);
    body[key] = checked.data;
  }
  if (refused.length) throw new CreateBodyError(`not allowed through the Berth Docker-API proxy: ${refused.join("; ")}`);
  const restart = body.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined;
  const summary: Record<string, unknown> = {
    ...(body.Memory !== undefined ? { memoryBytes: body.Memory } : {}),
    ...(limitsAfterUpdate({}, body).cpus !== undefined ? { cpus: limitsAfterUpdate({}, body).cpus } : {}),
    ...(body.PidsLimit !== undefined ? { pidsLimit: body.PidsLimit } : {}),
    ...(restart?.Name ? { restartPolicy: restart.MaximumRetryCount ? `${restart.Name}:${restart.MaximumRetryCount}` : restart.Name } : {}),
  };
  return { body, summary };
}

/**
 * The memory and CPU limits the container will have after the update: a
 * value the update sets replaces the current one (dockerd leaves unset
 * ones as they are; 0 means unchanged).
 */
export function limitsAfterUpdate(current: Record<string, unknown>, update: Record<string, unknown>): { memoryBytes?: number; cpus?: number } {
  const num = (v: unknown) => (typeof v === "number" && v > 0 ? v : undefined);
  const memoryBytes = num(update.Memory) ?? num(current.Memory);
  let cpus: number | undefined;
  if (num(update.NanoCpus)) cpus = num(update.NanoCpus)! / 1e9;
  else if (num(update.CpuQuota)) cpus = num(update.CpuQuota)! / (num(update.CpuPeriod) ?? num(current.CpuPeriod) ?? 100_000);
  else if (num(current.NanoCpus)) cpus = num(current.NanoCpus)! / 1e9;
  else if (num(current.CpuQuota)) cpus = num(current.CpuQuota)! / (num(update.CpuPeriod) ?? num(current.CpuPeriod) ?? 100_000);
  return { ...(memoryBytes ? { memoryBytes } : {}), ...(cpus ? { cpus } : {}) };
}
