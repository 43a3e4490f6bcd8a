// The OCI runtime-spec (1.0.2) config.json for a container, with Docker's
// default security profile (moby oci/defaults.go, oci/caps,
// daemon/oci_linux.go), put together from its parts: the capabilities
// (capabilities.ts), rlimits (rlimits.ts), cgroup limits (resources.ts), the
// default mounts, masked paths and device list (default-profile.ts) and
// seccomp (seccomp-profile.ts). Also `runc exec`'s process.json.
//
// buildRuntimeSpec() is pure: everything read from the host (its rlimits, its
// device nodes, its thermal_throttle directories) is passed in, read by
// rlimits.ts and host-devices.ts.

import path from "node:path";
import { computeCapabilities } from "./capabilities";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE, defaultDeviceRules, defaultMounts } from "./default-profile";
import { buildResources } from "./resources";
import { buildRlimits, RLIM_INFINITY, type OciRlimit } from "./rlimits";
import { defaultSeccomp } from "./seccomp-profile";
import { SpecError } from "./spec-error";
import type { OciCapabilities, OciNamespace, OciLinux, OciProcess, OciSpec, ProcessInput, RuntimeSpecInput } from "./spec-types";

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

  return {
    ociVersion: "1.0.2",
    process: ociProcess(input.process, caps, { ...input, rlimits }),
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
  return ociProcess(input, caps, { ...input, rlimits: input.rlimits?.map((r) => ({ ...r })) });
}

/** The OCI process, for the container's own process and for an exec alike. */
function ociProcess(
  p: ProcessInput,
  caps: string[],
  o: { noNewPrivileges: boolean; privileged: boolean; rlimits?: OciRlimit[]; apparmorProfile?: string },
): OciProcess {
  const proc: OciProcess = {
    terminal: p.terminal,
    user: { uid: p.uid, gid: p.gid, additionalGids: [...p.additionalGids] },
    args: [...p.args],
    env: [...p.env],
    cwd: p.cwd,
    capabilities: capabilitySet(caps),
    ...(o.rlimits ? { rlimits: o.rlimits } : {}),
    noNewPrivileges: o.noNewPrivileges,
    oomScoreAdj: 0,
  };
  if (p.terminal && p.consoleSize) proc.consoleSize = { ...p.consoleSize };
  // AppArmor doesn't confine a privileged container, as in Docker.
  if (o.apparmorProfile && !o.privileged) proc.apparmorProfile = o.apparmorProfile;
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

