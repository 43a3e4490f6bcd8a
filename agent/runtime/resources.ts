import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cgroupMountPoints } from "./cgroup-parent";
import type { LinuxResources, ResourcesInput } from "./spec-types";
import { SpecError } from "./spec-error";

// The container's cgroup limits (memory, CPU, pids), validated and defaulted
// the way dockerd does (verifyPlatformContainerResources, adaptContainerSettings).

/** dockerd's linuxMinMemory */
const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262144;
const DEFAULT_CPU_PERIOD = 100000;
const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The cgroup limits for the spec; a SpecError for what dockerd refuses. */
export function buildResources(r: ResourcesInput): LinuxResources {
  const out: LinuxResources = {};
  const int = (name: string, v: number | undefined): number => {
    if (v === undefined) return 0;
    if (!Number.isSafeInteger(v)) throw new SpecError(`invalid ${name}: ${v} (must be an integer)`);
    return v;
  };

  // Memory (dockerd verifyPlatformContainerResources / adaptContainerSettings).
  const memory = int("memory limit", r.memory);
  let swap = int("memory swap limit", r.memorySwap);
  if (memory < 0) throw new SpecError(`Invalid memory limit ${memory}: it must not be negative`);
  if (memory > 0 && memory < MIN_MEMORY) throw new SpecError("Minimum memory limit allowed is 6MB");
  if (swap < -1) throw new SpecError(`Invalid memory swap limit ${swap}: use -1 for unlimited swap`);
  if (memory === 0 && swap > 0) {
    throw new SpecError("You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  if (memory > 0 && swap > 0 && swap < memory) {
    throw new SpecError("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (memory > 0 && swap === 0) swap = memory * 2;
  const reservation = int("memory reservation", r.memoryReservation);
  if (reservation < 0) throw new SpecError(`Invalid memory reservation ${reservation}: it must not be negative`);
  if (reservation > 0 && reservation < MIN_MEMORY) throw new SpecError("Minimum memory reservation allowed is 6MB");
  if (memory > 0 && reservation > memory) throw new SpecError("Minimum memory limit can not be less than memory reservation limit, see usage");
  if (memory > 0 || swap !== 0 || reservation > 0) {
    out.memory = {};
    if (memory > 0) out.memory.limit = memory;
    if (swap !== 0) out.memory.swap = swap;
    if (reservation > 0) out.memory.reservation = reservation;
  }

  // CPU.
  const cpu: NonNullable<LinuxResources["cpu"]> = {};
  const nanoCpus = int("nano CPUs", r.nanoCpus);
  const period = int("CPU period", r.cpuPeriod);
  const quota = int("CPU quota", r.cpuQuota);
  const shares = int("CPU shares", r.cpuShares);
  const ncpu = os.availableParallelism();
  if (nanoCpus < 0 || nanoCpus > ncpu * 1e9) {
    throw new SpecError(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (nanoCpus > 0 && period > 0) {
    throw new SpecError("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (nanoCpus > 0 && quota > 0) throw new SpecError("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw new SpecError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (quota > 0 && quota < 1000) throw new SpecError("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (shares < 0) throw new SpecError(`Invalid CPU shares ${shares}: it must not be negative`);
  if (shares > 0) cpu.shares = Math.min(Math.max(shares, MIN_CPU_SHARES), MAX_CPU_SHARES);
  if (nanoCpus > 0) {
    cpu.period = DEFAULT_CPU_PERIOD;
    cpu.quota = Math.floor((nanoCpus * DEFAULT_CPU_PERIOD) / 1e9);
  } else {
    if (period > 0) cpu.period = period;
    if (quota > 0) cpu.quota = quota;
  }
  if (r.cpusetCpus) {
    if (!CPUSET.test(r.cpusetCpus)) throw new SpecError(`Invalid value ${r.cpusetCpus} for cpuset cpus`);
    cpu.cpus = r.cpusetCpus;
  }
  if (r.cpusetMems) {
    if (!CPUSET.test(r.cpusetMems)) throw new SpecError(`Invalid value ${r.cpusetMems} for cpuset mems`);
    cpu.mems = r.cpusetMems;
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  const pids = int("pids limit", r.pidsLimit);
  if (pids > 0) out.pids = { limit: pids };

  const weight = int("blkio weight", r.blkioWeight);
  if (weight !== 0 && (weight < 10 || weight > 1000)) throw new SpecError("Range of blkio weight is from 10 to 1000");
  if (weight > 0) out.blockIO = { weight };
  return out;
}

/**
 * dockerd's sysinfo BlkioWeight: whether this host's cgroups can weigh a
 * container's block I/O (v1: a blkio hierarchy with blkio.weight or
 * blkio.bfq.weight, which need the CFQ/BFQ scheduler; v2: the io controller).
 */
export function blkioWeightSupported(cgroupVersion: 1 | 2): boolean {
  try {
    if (cgroupVersion === 2) return readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("io");
    const blkio = cgroupMountPoints(readFileSync("/proc/self/mountinfo", "utf8")).find((p) => path.basename(p).split(",").includes("blkio"));
    return Boolean(blkio && (existsSync(path.join(blkio, "blkio.weight")) || existsSync(path.join(blkio, "blkio.bfq.weight"))));
  } catch {
    return false;
  }
}
