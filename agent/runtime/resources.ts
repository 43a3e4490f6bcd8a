import os from "node:os";
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
  if (memory > 0 || swap !== 0) {
    out.memory = {};
    if (memory > 0) out.memory.limit = memory;
    if (swap !== 0) out.memory.swap = swap;
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
  return out;
}
