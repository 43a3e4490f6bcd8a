// OCI runtime-spec (1.0.2) config.json for a container, with Docker's default
// security profile (moby oci/defaults.go, oci/caps, daemon/oci_linux.go):
// 14 capabilities, masked and read-only /proc and /sys paths, a device cgroup
// allow list, private namespaces, seccomp, and the resource limits the user
// asked for, validated the way dockerd validates them.
//
// buildRuntimeSpec() is pure: everything read from the host (its rlimits, its
// device nodes, its thermal_throttle directories) is passed in, and the
// async helpers below read it.

import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "../../lib/docker/capabilities";
import { readFileSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SpecError } from "./spec-error";
import { defaultSeccomp, type LinuxSeccomp } from "./seccomp-profile";

// ---------------------------------------------------------------------------
// Capabilities (the lists: lib/docker/capabilities.ts)

const KNOWN_CAPS = new Set(ALL_CAPABILITIES);

/** "net_admin" / "NET_ADMIN" / "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL". */
function normalizeCaps(names: string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    let c = raw.trim().toUpperCase();
    if (c !== "ALL") {
      if (!c.startsWith("CAP_")) c = `CAP_${c}`;
      if (!KNOWN_CAPS.has(c)) throw new SpecError(`unknown capability: ${JSON.stringify(c)}`);
    }
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

let boundingSet: string[] | null = null;

/**
 * "All capabilities" as the agent can grant them: those in its own bounding
 * set (as podman does). A sandboxed agent may lack some (CAP_SYS_RESOURCE,
 * say), and asking runc for one it lacks fails the whole start.
 */
export function hostCapabilities(): string[] {
  if (boundingSet) return boundingSet;
  let mask: bigint | null = null;
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("CapBnd:"));
    if (line) mask = BigInt(`0x${line.split(/\s+/)[1]}`);
  } catch {
    mask = null;
  }
  boundingSet = mask === null ? [...ALL_CAPABILITIES] : ALL_CAPABILITIES.filter((_, bit) => (mask! >> BigInt(bit)) & 1n);
  return boundingSet;
}

/**
 * The container's capability set (bounding = permitted = effective), as
 * dockerd's TweakCapabilities: privileged gets all; --cap-add ALL gets all
 * minus --cap-drop; --cap-drop ALL keeps only --cap-add; otherwise the
 * defaults minus drops plus adds. Throws SpecError on an unknown name.
 */
export function computeCapabilities(privileged: boolean, capAdd: string[] = [], capDrop: string[] = []): string[] {
  const add = normalizeCaps(capAdd);
  const drop = normalizeCaps(capDrop);
  if (privileged) return hostCapabilities();
  let caps: string[];
  if (add.includes("ALL")) caps = hostCapabilities().filter((c) => !drop.includes(c));
  else if (drop.includes("ALL")) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}

// ---------------------------------------------------------------------------
// Types (runtime-spec 1.0.2 subset)

/** Linux rlimit type names as in runtime-spec ("RLIMIT_NOFILE", ...). */
export type RlimitType =
  | "RLIMIT_AS"
  | "RLIMIT_CORE"
  | "RLIMIT_CPU"
  | "RLIMIT_DATA"
  | "RLIMIT_FSIZE"
  | "RLIMIT_LOCKS"
  | "RLIMIT_MEMLOCK"
  | "RLIMIT_MSGQUEUE"
  | "RLIMIT_NICE"
  | "RLIMIT_NOFILE"
  | "RLIMIT_NPROC"
  | "RLIMIT_RSS"
  | "RLIMIT_RTPRIO"
  | "RLIMIT_RTTIME"
  | "RLIMIT_SIGPENDING"
  | "RLIMIT_STACK";

/**
 * Stands for RLIM_INFINITY in rlimit values. JSON numbers can't carry
 * 2^64-1 exactly, so write specs with specToJson(), which emits
 * 18446744073709551615 in its place.
 */
export const RLIM_INFINITY = -1;

/** Docker's --ulimit: name as "nofile" (or "RLIMIT_NOFILE"); -1 means unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** The host's limits, keyed by rlimit type; -1 (RLIM_INFINITY) means unlimited. */
export type HostLimits = Partial<Record<RlimitType, { soft: number; hard: number }>>;

export interface OciRlimit {
  type: RlimitType;
  /** -1 = RLIM_INFINITY (see specToJson) */
  hard: number;
  /** -1 = RLIM_INFINITY (see specToJson) */
  soft: number;
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  inheritable: string[];
  permitted: string[];
  ambient: string[];
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export type NamespaceType = "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup";

export interface OciNamespace {
  type: NamespaceType;
  path?: string;
}

export interface LinuxDevice {
  path: string;
  type: "c" | "b" | "u" | "p";
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number;
  minor?: number;
  access?: string;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: { limit?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
}

export interface OciLinux {
  namespaces: OciNamespace[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources: LinuxResources;
  sysctl?: Record<string, string>;
  seccomp?: LinuxSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: OciLinux;
}

export interface ProcessInput {
  args: string[];
  env: string[];
  /** absolute path inside the container */
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  consoleSize?: { height: number; width: number };
}

export interface ResourcesInput {
  /** bytes; 0/undefined = unlimited; else at least 6 MiB */
  memory?: number;
  /** bytes of memory+swap; 0/undefined = 2x memory when memory is set; -1 = unlimited swap */
  memorySwap?: number;
  /** CPUs x 1e9 (docker --cpus); becomes period 100000 and a matching quota */
  nanoCpus?: number;
  cpuShares?: number;
  /** microseconds, 1000..1000000 */
  cpuPeriod?: number;
  /** microseconds, >= 1000 (or <= 0 for none) */
  cpuQuota?: number;
  /** e.g. "0-2,4" */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** <= 0 / undefined = unlimited */
  pidsLimit?: number;
}

export interface RuntimeSpecInput {
  id: string;
  /** absolute path of the mounted root filesystem */
  rootfs: string;
  readonlyRootfs: boolean;
  hostname: string;
  process: ProcessInput;
  privileged: boolean;
  /** "NET_ADMIN", "CAP_NET_ADMIN", "ALL" (case-insensitive) */
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  seccomp: "default" | "unconfined";
  resources: ResourcesInput;
  /** bytes for /dev/shm; 0 = Docker's 64 MiB */
  shmSize: number;
  ulimits: Ulimit[];
  /** from readHostLimits(); bounds every hard limit */
  hostLimits: HostLimits;
  /** appended after the default mounts; one with the destination of a default mount replaces it */
  mounts: OciMount[];
  cgroupsPath: string;
  /** join this network namespace instead of creating one */
  networkNamespacePath?: string;
  /** --network host: no network namespace at all (and no network sysctls) */
  hostNetwork?: boolean;
  cgroupVersion: 1 | 2;
  /** native architecture for seccomp (uname, Node or Go name); defaults to this host's */
  arch?: string;
  /** more masked paths, e.g. hostMaskedPaths() (thermal_throttle directories) */
  extraMaskedPaths?: string[];
  /** device nodes to create in a privileged container, e.g. listHostDevices() */
  hostDevices?: LinuxDevice[];
  apparmorProfile?: string;
}

// ---------------------------------------------------------------------------
// Defaults (moby oci/defaults.go)

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
/** dockerd's linuxMinMemory */
const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262144;
const DEFAULT_CPU_PERIOD = 100000;
const DEFAULT_NOFILE = { soft: 1024, hard: 524288 };

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

function defaultMounts(shmSize: number): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${shmSize}`],
    },
  ];
}

const chr = (major: number, minor?: number, allow = true): LinuxDeviceCgroup =>
  minor === undefined ? { allow, type: "c", major, access: "rwm" } : { allow, type: "c", major, minor, access: "rwm" };

function defaultDeviceRules(): LinuxDeviceCgroup[] {
  return [
    { allow: false, access: "rwm" },
    chr(1, 5), // /dev/null
    chr(1, 3), // /dev/zero
    chr(1, 9), // /dev/urandom
    chr(1, 8), // /dev/random
    chr(5, 0), // /dev/tty
    chr(5, 1), // /dev/console
    chr(136), // /dev/pts/*
    chr(5, 2), // /dev/ptmx
    chr(10, 229, false), // /dev/fuse
  ];
}

// ---------------------------------------------------------------------------
// rlimits

const ULIMIT_NAMES: Record<string, RlimitType> = {
  as: "RLIMIT_AS",
  core: "RLIMIT_CORE",
  cpu: "RLIMIT_CPU",
  data: "RLIMIT_DATA",
  fsize: "RLIMIT_FSIZE",
  locks: "RLIMIT_LOCKS",
  memlock: "RLIMIT_MEMLOCK",
  msgqueue: "RLIMIT_MSGQUEUE",
  nice: "RLIMIT_NICE",
  nofile: "RLIMIT_NOFILE",
  nproc: "RLIMIT_NPROC",
  rss: "RLIMIT_RSS",
  rtprio: "RLIMIT_RTPRIO",
  rttime: "RLIMIT_RTTIME",
  sigpending: "RLIMIT_SIGPENDING",
  stack: "RLIMIT_STACK",
};

function rlimitType(name: string): RlimitType {
  let n = name.trim().toLowerCase();
  if (n.startsWith("rlimit_")) n = n.slice("rlimit_".length);
  const type = ULIMIT_NAMES[n];
  if (!type) throw new SpecError(`invalid ulimit type: ${name}`);
  return type;
}

/** a <= b where -1 is infinity */
const rlimLE = (a: number, b: number): boolean => b === RLIM_INFINITY || (a !== RLIM_INFINITY && a <= b);
const rlimMin = (a: number, b: number): number => (rlimLE(a, b) ? a : b);

function checkRlimitValue(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < -1) {
    throw new SpecError(`invalid ulimit value for ${name}: ${v} (use a non-negative integer, or -1 for unlimited)`);
  }
}

/**
 * The container's rlimits: RLIMIT_NOFILE 1024/524288 unless the user set
 * nofile, then the user's ulimits; every hard limit is capped at the host's
 * hard limit and every soft limit at the resulting hard limit.
 */
export function buildRlimits(ulimits: Ulimit[], hostLimits: HostLimits): OciRlimit[] {
  const byType = new Map<RlimitType, { soft: number; hard: number }>();
  byType.set("RLIMIT_NOFILE", { ...DEFAULT_NOFILE });
  for (const u of ulimits) {
    const type = rlimitType(u.name);
    checkRlimitValue(u.name, u.soft);
    checkRlimitValue(u.name, u.hard);
    if (!rlimLE(u.soft, u.hard)) {
      throw new SpecError(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    byType.set(type, { soft: u.soft, hard: u.hard });
  }
  const out: OciRlimit[] = [];
  for (const [type, { soft, hard }] of byType) {
    const host = hostLimits[type];
    const h = host ? rlimMin(hard, host.hard) : hard;
    out.push({ type, hard: h, soft: rlimMin(soft, h) });
  }
  return out;
}

const LIMITS_NAMES: Record<string, RlimitType> = {
  "Max cpu time": "RLIMIT_CPU",
  "Max file size": "RLIMIT_FSIZE",
  "Max data size": "RLIMIT_DATA",
  "Max stack size": "RLIMIT_STACK",
  "Max core file size": "RLIMIT_CORE",
  "Max resident set": "RLIMIT_RSS",
  "Max processes": "RLIMIT_NPROC",
  "Max open files": "RLIMIT_NOFILE",
  "Max locked memory": "RLIMIT_MEMLOCK",
  "Max address space": "RLIMIT_AS",
  "Max file locks": "RLIMIT_LOCKS",
  "Max pending signals": "RLIMIT_SIGPENDING",
  "Max msgqueue size": "RLIMIT_MSGQUEUE",
  "Max nice priority": "RLIMIT_NICE",
  "Max realtime priority": "RLIMIT_RTPRIO",
  "Max realtime timeout": "RLIMIT_RTTIME",
};

/** Parses the text of /proc/<pid>/limits. */
export function parseHostLimits(text: string): HostLimits {
  const out: HostLimits = {};
  const value = (s: string): number => (s === "unlimited" ? RLIM_INFINITY : Number(s));
  for (const line of text.split("\n")) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const type = LIMITS_NAMES[m[1]];
    if (!type) continue;
    const soft = value(m[2]);
    const hard = value(m[3]);
    if (Number.isSafeInteger(soft) && Number.isSafeInteger(hard)) out[type] = { soft, hard };
  }
  return out;
}

/** This process's limits (/proc/self/limits); -1 = unlimited. */
export async function readHostLimits(): Promise<HostLimits> {
  return parseHostLimits(await readFile("/proc/self/limits", "utf8"));
}

// ---------------------------------------------------------------------------
// Host helpers for masked paths and privileged devices

/** /sys/devices/system/cpu/cpu<N>/thermal_throttle directories that exist (Docker masks them). */
export async function hostMaskedPaths(): Promise<string[]> {
  const base = "/sys/devices/system/cpu";
  let entries: string[];
  try {
    entries = await readdir(base);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.filter((n) => /^cpu\d+$/.test(n)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))) {
    const p = `${base}/${e}/thermal_throttle`;
    try {
      if ((await lstat(p)).isDirectory()) out.push(p);
    } catch {
      // absent
    }
  }
  return out;
}

const SKIPPED_DEV_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

/** The host's character and block devices under /dev, as runc's devices.HostDevices(). */
export async function listHostDevices(root = "/dev"): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DEV_DIRS.has(e.name)) await walk(p);
        continue;
      }
      if (e.name === "console" || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
      try {
        const st = await lstat(p, { bigint: true });
        const rdev = st.rdev;
        const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
        const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
        out.push({
          path: p,
          type: e.isCharacterDevice() ? "c" : "b",
          major,
          minor,
          fileMode: Number(st.mode & 0o7777n),
          uid: Number(st.uid),
          gid: Number(st.gid),
        });
      } catch {
        // vanished
      }
    }
  };
  await walk(root);
  return out;
}

// ---------------------------------------------------------------------------
// Validation

const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function validateProcess(p: ProcessInput): void {
  if (p.args.length === 0 || p.args[0] === "") throw new SpecError("No command specified");
  if (!path.posix.isAbsolute(p.cwd)) {
    throw new SpecError(`the working directory '${p.cwd}' is invalid, it needs to be an absolute path`);
  }
  const isId = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!isId(p.uid)) throw new SpecError(`invalid user id: ${p.uid}`);
  if (!isId(p.gid)) throw new SpecError(`invalid group id: ${p.gid}`);
  for (const g of p.additionalGids) if (!isId(g)) throw new SpecError(`invalid group id: ${g}`);
  if (p.consoleSize) {
    const { height, width } = p.consoleSize;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
      throw new SpecError(`invalid console size: ${height}x${width}`);
    }
  }
}

function buildResources(r: ResourcesInput): LinuxResources {
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

// ---------------------------------------------------------------------------
// Spec

function capabilitySet(caps: string[]): OciCapabilities {
  return { bounding: [...caps], effective: [...caps], inheritable: [], permitted: [...caps], ambient: [] };
}

/** Builds config.json for runc. Throws SpecError on invalid input. */
export function buildRuntimeSpec(input: RuntimeSpecInput): OciSpec {
  validateProcess(input.process);
  if (!path.posix.isAbsolute(input.rootfs)) throw new SpecError(`rootfs must be an absolute path: ${input.rootfs}`);
  if (!Number.isSafeInteger(input.shmSize) || input.shmSize < 0) {
    throw new SpecError("SHM size can not be less than 0");
  }
  for (const m of input.mounts) {
    if (!path.posix.isAbsolute(m.destination)) {
      throw new SpecError(`invalid mount destination '${m.destination}': it must be an absolute path`);
    }
  }
  const caps = computeCapabilities(input.privileged, input.capAdd, input.capDrop);
  const rlimits = buildRlimits(input.ulimits, input.hostLimits);
  const resources = buildResources(input.resources);

  // Mounts: the defaults (unless the user mounts over one), then the user's.
  const userDests = new Set(input.mounts.map((m) => path.posix.normalize(m.destination)));
  const mounts = defaultMounts(input.shmSize || DEFAULT_SHM_SIZE).filter((m) => !userDests.has(m.destination));
  for (const m of mounts) {
    // A read-only root makes the default filesystems read-only too, except the
    // ones a process needs to write.
    if (input.readonlyRootfs && !["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"].includes(m.destination)) {
      if (!m.options?.includes("ro")) m.options = [...(m.options ?? []), "ro"];
    }
    // Privileged containers get /sys and the cgroup filesystem read-write (even with a read-only root).
    if (input.privileged && (m.destination === "/sys" || m.type === "cgroup")) {
      m.options = (m.options ?? []).filter((o) => o !== "ro");
    }
  }
  mounts.push(...input.mounts.map((m) => ({ ...m, options: m.options ? [...m.options] : undefined })));

  // Namespaces.
  const privateNet = !input.hostNetwork;
  const namespaces: OciNamespace[] = [{ type: "mount" }];
  if (privateNet) {
    namespaces.push(input.networkNamespacePath ? { type: "network", path: input.networkNamespacePath } : { type: "network" });
  }
  namespaces.push({ type: "uts" }, { type: "pid" }, { type: "ipc" });
  if (input.cgroupVersion === 2) namespaces.push({ type: "cgroup" });

  resources.devices = input.privileged ? [{ allow: true, type: "a", access: "rwm" }] : defaultDeviceRules();

  const linux: OciLinux = {
    namespaces,
    cgroupsPath: input.cgroupsPath,
    resources,
  };
  if (input.privileged && input.hostDevices?.length) linux.devices = input.hostDevices.map((d) => ({ ...d }));
  if (privateNet) {
    linux.sysctl = {
      "net.ipv4.ip_unprivileged_port_start": "0",
      "net.ipv4.ping_group_range": "0 2147483647",
    };
  }
  if (!input.privileged) {
    linux.maskedPaths = [...DEFAULT_MASKED_PATHS, ...(input.extraMaskedPaths ?? [])];
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
    if (input.seccomp !== "unconfined") linux.seccomp = defaultSeccomp({ capabilities: caps, arch: input.arch });
  }

  const p = input.process;
  const proc: OciProcess = {
    terminal: p.terminal,
    user: { uid: p.uid, gid: p.gid, additionalGids: [...p.additionalGids] },
    args: [...p.args],
    env: [...p.env],
    cwd: p.cwd,
    capabilities: capabilitySet(caps),
    rlimits,
    noNewPrivileges: input.noNewPrivileges,
    oomScoreAdj: 0,
  };
  if (p.terminal && p.consoleSize) proc.consoleSize = { ...p.consoleSize };
  if (input.apparmorProfile && !input.privileged) proc.apparmorProfile = input.apparmorProfile;

  return {
    ociVersion: "1.0.2",
    process: proc,
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    mounts,
    linux,
  };
}

export interface ExecProcessInput extends ProcessInput {
  /** the container's --privileged, or docker exec --privileged */
  privileged: boolean;
  /** the container's --cap-add / --cap-drop */
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  /** the container's rlimits (spec.process.rlimits); without them runc's own limits would leak in */
  rlimits?: OciRlimit[];
  apparmorProfile?: string;
}

/** The process.json for `runc exec --process`: the container's capabilities, the given command. */
export function buildExecProcess(input: ExecProcessInput): OciProcess {
  validateProcess(input);
  const caps = computeCapabilities(input.privileged, input.capAdd, input.capDrop);
  const proc: OciProcess = {
    terminal: input.terminal,
    user: { uid: input.uid, gid: input.gid, additionalGids: [...input.additionalGids] },
    args: [...input.args],
    env: [...input.env],
    cwd: input.cwd,
    capabilities: capabilitySet(caps),
    noNewPrivileges: input.noNewPrivileges,
    oomScoreAdj: 0,
  };
  if (input.rlimits) proc.rlimits = input.rlimits.map((r) => ({ ...r }));
  if (input.terminal && input.consoleSize) proc.consoleSize = { ...input.consoleSize };
  if (input.apparmorProfile && !input.privileged) proc.apparmorProfile = input.apparmorProfile;
  return proc;
}

const RLIM_INFINITY_TOKEN = '"__berth_rlim_infinity__"';

/**
 * JSON for config.json / process.json, with RLIM_INFINITY written as
 * 18446744073709551615 (a JS number can't hold it exactly).
 */
export function specToJson(value: OciSpec | OciProcess, space?: number): string {
  const token = JSON.parse(RLIM_INFINITY_TOKEN) as string;
  const json = JSON.stringify(
    value,
    (key, v: unknown) => {
      if (key === "rlimits" && Array.isArray(v)) {
        return (v as OciRlimit[]).map((r) => ({
          type: r.type,
          hard: r.hard === RLIM_INFINITY ? token : r.hard,
          soft: r.soft === RLIM_INFINITY ? token : r.soft,
        }));
      }
      return v;
    },
    space,
  );
  return json.split(RLIM_INFINITY_TOKEN).join("18446744073709551615");
}
