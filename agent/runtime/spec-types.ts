import type { HostLimits, OciRlimit, Ulimit } from "./rlimits";
import type { LinuxSeccomp } from "./seccomp-profile";

// The OCI runtime-spec (1.0.2) subset the agent writes, and what the spec
// builder takes in.

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
  memory?: { limit?: number; swap?: number; reservation?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
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
  /** bytes; the soft limit (memory.soft_limit_in_bytes / memory.low) */
  memoryReservation?: number;
  /** 10..1000, only where the host's cgroups have a weight for block I/O */
  blkioWeight?: number;
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
