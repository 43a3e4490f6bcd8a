import os from "node:os";
import { describe, expect, it } from "vitest";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "../../../lib/docker/capabilities";
import { computeCapabilities, hostCapabilities } from "../../../agent/runtime/capabilities";
import { parseHostLimits, readHostLimits, RLIM_INFINITY } from "../../../agent/runtime/rlimits";
import { buildExecProcess, buildRuntimeSpec, specToJson } from "../../../agent/runtime/spec";
import type { RuntimeSpecInput } from "../../../agent/runtime/spec-types";
import { SpecError } from "../../../agent/runtime/spec-error";

const MiB = 1024 * 1024;

function input(over: Partial<RuntimeSpecInput> = {}): RuntimeSpecInput {
  return {
    id: "c1",
    rootfs: "/var/lib/berth/containers/c1/rootfs",
    readonlyRootfs: false,
    hostname: "c1host",
    process: {
      args: ["/bin/sh", "-c", "echo hi"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: "/",
      uid: 0,
      gid: 0,
      additionalGids: [10],
      terminal: false,
    },
    privileged: false,
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    seccomp: "default",
    resources: {},
    shmSize: 64 * MiB,
    ulimits: [],
    hostLimits: { RLIMIT_NOFILE: { soft: 1024, hard: 1048576 } },
    mounts: [],
    cgroupsPath: "/berth/c1",
    cgroupVersion: 1,
    arch: "x86_64",
    ...over,
  };
}

/** The SpecError message thrown by fn. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    expect((e as SpecError).code).toBe("INVALID");
    return (e as SpecError).message;
  }
  throw new Error("expected a SpecError");
}

describe("buildRuntimeSpec: Docker's default profile", () => {
  it("gives the 14 default capabilities, no inheritable or ambient", () => {
    const caps = buildRuntimeSpec(input()).process.capabilities;
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(caps.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(caps.effective).toEqual(caps.bounding);
    expect(caps.permitted).toEqual(caps.bounding);
    expect(caps.inheritable).toEqual([]);
    expect(caps.ambient).toEqual([]);
    expect(caps.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(caps.bounding).not.toContain("CAP_NET_ADMIN");
  });

  it("applies --cap-add / --cap-drop with or without the CAP_ prefix, and ALL", () => {
    const caps = buildRuntimeSpec(input({ capAdd: ["NET_ADMIN", "cap_sys_ptrace"], capDrop: ["CAP_NET_RAW", "mknod"] }))
      .process.capabilities.bounding;
    expect(caps).toContain("CAP_NET_ADMIN");
    expect(caps).toContain("CAP_SYS_PTRACE");
    expect(caps).not.toContain("CAP_NET_RAW");
    expect(caps).not.toContain("CAP_MKNOD");
    expect(caps).toHaveLength(14);
    expect(computeCapabilities(false, ["CHOWN"], [])).toEqual([...DEFAULT_CAPABILITIES]);
    expect(computeCapabilities(false, ["CHOWN"], ["ALL"])).toEqual(["CAP_CHOWN"]);
    expect(computeCapabilities(false, [], ["all"])).toEqual([]);
    const all = computeCapabilities(false, ["ALL"], ["SYS_ADMIN"]);
    // "ALL" means every capability the agent holds (its bounding set), minus the drops.
    expect(all).toHaveLength(hostCapabilities().length - (hostCapabilities().includes("CAP_SYS_ADMIN") ? 1 : 0));
    expect(all).not.toContain("CAP_SYS_ADMIN");
    expect(ALL_CAPABILITIES).toHaveLength(41);
    expect(ALL_CAPABILITIES.at(-1)).toBe("CAP_CHECKPOINT_RESTORE");
  });

  it("masks and write-protects /proc and /sys paths", () => {
    const linux = buildRuntimeSpec(input({ extraMaskedPaths: ["/sys/devices/system/cpu/cpu0/thermal_throttle"] })).linux;
    expect(linux.maskedPaths).toContain("/proc/kcore");
    expect(linux.maskedPaths).toContain("/proc/keys");
    expect(linux.maskedPaths).toContain("/sys/firmware");
    expect(linux.maskedPaths).toContain("/sys/devices/system/cpu/cpu0/thermal_throttle");
    expect(linux.readonlyPaths).toEqual(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
  });

  it("mounts the default filesystems with Docker's options, then the bind mounts", () => {
    const spec = buildRuntimeSpec(
      input({
        shmSize: 128 * MiB,
        mounts: [
          { destination: "/etc/hosts", source: "/run/berth/c1/hosts", type: "bind", options: ["rbind", "rprivate"] },
          { destination: "/etc/resolv.conf", source: "/run/berth/c1/resolv.conf", type: "bind", options: ["rbind", "rprivate", "ro"] },
        ],
      }),
    );
    const byDest = Object.fromEntries(spec.mounts.map((m) => [m.destination, m]));
    expect(spec.mounts.map((m) => m.destination)).toEqual([
      "/proc",
      "/dev",
      "/dev/pts",
      "/sys",
      "/sys/fs/cgroup",
      "/dev/mqueue",
      "/dev/shm",
      "/etc/hosts",
      "/etc/resolv.conf",
    ]);
    expect(byDest["/proc"]).toEqual({ destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] });
    expect(byDest["/dev/pts"].options).toEqual(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]);
    expect(byDest["/sys"].options).toContain("ro");
    expect(byDest["/sys/fs/cgroup"]).toMatchObject({ type: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"] });
    expect(byDest["/dev/shm"].options).toEqual(["nosuid", "noexec", "nodev", "mode=1777", `size=${128 * MiB}`]);
    expect(byDest["/etc/resolv.conf"].options).toEqual(["rbind", "rprivate", "ro"]);
    expect(buildRuntimeSpec(input({ shmSize: 0 })).mounts.find((m) => m.destination === "/dev/shm")?.options).toContain("size=67108864");
  });

  it("lets a user mount replace a default one", () => {
    const spec = buildRuntimeSpec(
      input({ mounts: [{ destination: "/dev/shm", source: "/host/shm", type: "bind", options: ["rbind", "rprivate"] }] }),
    );
    const shm = spec.mounts.filter((m) => m.destination === "/dev/shm");
    expect(shm).toEqual([{ destination: "/dev/shm", source: "/host/shm", type: "bind", options: ["rbind", "rprivate"] }]);
  });

  it("sets root, hostname, process and cgroups path", () => {
    const spec = buildRuntimeSpec(input({ readonlyRootfs: true, noNewPrivileges: true }));
    expect(spec.ociVersion).toBe("1.0.2");
    expect(spec.root).toEqual({ path: "/var/lib/berth/containers/c1/rootfs", readonly: true });
    expect(spec.hostname).toBe("c1host");
    expect(spec.process.user).toEqual({ uid: 0, gid: 0, additionalGids: [10] });
    expect(spec.process.args).toEqual(["/bin/sh", "-c", "echo hi"]);
    expect(spec.process.cwd).toBe("/");
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.oomScoreAdj).toBe(0);
    expect(spec.process.terminal).toBe(false);
    expect(spec.linux.cgroupsPath).toBe("/berth/c1");
    // A read-only root keeps /dev/shm etc. writable.
    expect(spec.mounts.find((m) => m.destination === "/dev/shm")?.options).not.toContain("ro");
    expect(spec.mounts.find((m) => m.destination === "/dev/mqueue")?.options).not.toContain("ro");
    const tty = buildRuntimeSpec(input({ process: { ...input().process, terminal: true, consoleSize: { height: 40, width: 120 } } }));
    expect(tty.process.consoleSize).toEqual({ height: 40, width: 120 });
  });

  it("creates private namespaces, joins a given network namespace, cgroup ns only on v2", () => {
    const v1 = buildRuntimeSpec(input()).linux;
    expect(v1.namespaces.map((n) => n.type).sort()).toEqual(["ipc", "mount", "network", "pid", "uts"]);
    expect(v1.namespaces.every((n) => n.path === undefined)).toBe(true);
    const v2 = buildRuntimeSpec(input({ cgroupVersion: 2, networkNamespacePath: "/run/netns/berth-c1" })).linux;
    expect(v2.namespaces.map((n) => n.type).sort()).toEqual(["cgroup", "ipc", "mount", "network", "pid", "uts"]);
    expect(v2.namespaces.find((n) => n.type === "network")).toEqual({ type: "network", path: "/run/netns/berth-c1" });
  });

  it("sets the unprivileged-port and ping sysctls only in a private network namespace", () => {
    expect(buildRuntimeSpec(input()).linux.sysctl).toEqual({
      "net.ipv4.ip_unprivileged_port_start": "0",
      "net.ipv4.ping_group_range": "0 2147483647",
    });
    const host = buildRuntimeSpec(input({ hostNetwork: true })).linux;
    expect(host.sysctl).toBeUndefined();
    expect(host.namespaces.map((n) => n.type)).not.toContain("network");
  });

  it("allows only the default devices", () => {
    const devices = buildRuntimeSpec(input()).linux.resources.devices;
    expect(devices?.[0]).toEqual({ allow: false, access: "rwm" });
    const allowed = devices?.filter((d) => d.allow).map((d) => `${d.type} ${d.major}:${d.minor ?? "*"} ${d.access}`);
    expect(allowed).toEqual(["c 1:5 rwm", "c 1:3 rwm", "c 1:9 rwm", "c 1:8 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm"]);
    expect(devices?.at(-1)).toEqual({ allow: false, type: "c", major: 10, minor: 229, access: "rwm" });
  });

  it("applies the default seccomp profile for the container's capabilities, or none when unconfined", () => {
    const seccomp = buildRuntimeSpec(input()).linux.seccomp;
    expect(seccomp?.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(seccomp?.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    expect(seccomp?.syscalls?.some((r) => r.names.includes("mount"))).toBe(false);
    const admin = buildRuntimeSpec(input({ capAdd: ["SYS_ADMIN"] })).linux.seccomp;
    expect(admin?.syscalls?.some((r) => r.names.includes("mount") && r.action === "SCMP_ACT_ALLOW")).toBe(true);
    expect(buildRuntimeSpec(input({ seccomp: "unconfined" })).linux.seccomp).toBeUndefined();
  });

  it("--privileged: all capabilities, no masks, rw /sys and cgroup, all devices, no seccomp", () => {
    const spec = buildRuntimeSpec(
      input({
        privileged: true,
        readonlyRootfs: true,
        hostDevices: [{ path: "/dev/loop0", type: "b", major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }],
      }),
    );
    expect(spec.process.capabilities.bounding).toEqual(hostCapabilities());
    expect(spec.process.capabilities.effective).toContain("CAP_SYS_ADMIN");
    expect(spec.linux.maskedPaths).toBeUndefined();
    expect(spec.linux.readonlyPaths).toBeUndefined();
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.resources.devices).toEqual([{ allow: true, type: "a", access: "rwm" }]);
    expect(spec.linux.devices?.map((d) => d.path)).toEqual(["/dev/loop0"]);
    expect(spec.mounts.find((m) => m.destination === "/sys")?.options).not.toContain("ro");
    expect(spec.mounts.find((m) => m.destination === "/sys/fs/cgroup")?.options).not.toContain("ro");
    // Non-privileged containers never get host device nodes.
    expect(buildRuntimeSpec(input({ hostDevices: [{ path: "/dev/loop0", type: "b", major: 7, minor: 0 }] })).linux.devices).toBeUndefined();
  });
});

describe("buildRuntimeSpec: resources", () => {
  it("defaults swap to twice the memory; -1 is unlimited; an explicit value is kept", () => {
    expect(buildRuntimeSpec(input({ resources: { memory: 64 * MiB } })).linux.resources.memory).toEqual({
      limit: 64 * MiB,
      swap: 128 * MiB,
    });
    expect(buildRuntimeSpec(input({ resources: { memory: 64 * MiB, memorySwap: -1 } })).linux.resources.memory).toEqual({
      limit: 64 * MiB,
      swap: -1,
    });
    expect(buildRuntimeSpec(input({ resources: { memory: 64 * MiB, memorySwap: 100 * MiB } })).linux.resources.memory).toEqual({
      limit: 64 * MiB,
      swap: 100 * MiB,
    });
    expect(buildRuntimeSpec(input()).linux.resources.memory).toBeUndefined();
  });

  it("turns --cpus into a 100ms period and matching quota", () => {
    expect(buildRuntimeSpec(input({ resources: { nanoCpus: 0.5e9 } })).linux.resources.cpu).toEqual({ period: 100000, quota: 50000 });
    expect(buildRuntimeSpec(input({ resources: { nanoCpus: 1e9 } })).linux.resources.cpu).toEqual({ period: 100000, quota: 100000 });
    expect(
      buildRuntimeSpec(input({ resources: { cpuPeriod: 50000, cpuQuota: 25000, cpuShares: 512, cpusetCpus: "0", cpusetMems: "0" } }))
        .linux.resources.cpu,
    ).toEqual({ period: 50000, quota: 25000, shares: 512, cpus: "0", mems: "0" });
    expect(buildRuntimeSpec(input({ resources: { cpuShares: 1 } })).linux.resources.cpu).toEqual({ shares: 2 });
    expect(buildRuntimeSpec(input()).linux.resources.cpu).toBeUndefined();
  });

  it("sets a pids limit only when positive", () => {
    expect(buildRuntimeSpec(input({ resources: { pidsLimit: 100 } })).linux.resources.pids).toEqual({ limit: 100 });
    expect(buildRuntimeSpec(input({ resources: { pidsLimit: 0 } })).linux.resources.pids).toBeUndefined();
    expect(buildRuntimeSpec(input({ resources: { pidsLimit: -1 } })).linux.resources.pids).toBeUndefined();
  });

  it("refuses invalid values with Docker's messages", () => {
    expect(refusal(() => buildRuntimeSpec(input({ resources: { memory: 4 * MiB } })))).toBe("Minimum memory limit allowed is 6MB");
    expect(refusal(() => buildRuntimeSpec(input({ resources: { memory: -1 } })))).toMatch(/memory limit.*negative/i);
    expect(refusal(() => buildRuntimeSpec(input({ resources: { memory: 64 * MiB, memorySwap: 32 * MiB } })))).toBe(
      "Minimum memoryswap limit should be larger than memory limit, see usage",
    );
    expect(refusal(() => buildRuntimeSpec(input({ resources: { memorySwap: 32 * MiB } })))).toMatch(/always set the Memory limit/);
    const n = os.availableParallelism();
    expect(refusal(() => buildRuntimeSpec(input({ resources: { nanoCpus: (n + 1) * 1e9 } })))).toBe(
      `Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`,
    );
    expect(refusal(() => buildRuntimeSpec(input({ resources: { nanoCpus: 1e9, cpuQuota: 50000 } })))).toMatch(/Conflicting options/);
    expect(refusal(() => buildRuntimeSpec(input({ resources: { cpuPeriod: 10 } })))).toMatch(/CPU cfs period/);
    expect(refusal(() => buildRuntimeSpec(input({ resources: { cpusetCpus: "0-a" } })))).toBe("Invalid value 0-a for cpuset cpus");
    expect(refusal(() => buildRuntimeSpec(input({ capAdd: ["NET_FOO"] })))).toBe('unknown capability: "CAP_NET_FOO"');
    expect(refusal(() => buildRuntimeSpec(input({ capDrop: ["bogus"] })))).toBe('unknown capability: "CAP_BOGUS"');
    expect(refusal(() => buildRuntimeSpec(input({ ulimits: [{ name: "nofiles", soft: 1, hard: 1 }] })))).toBe("invalid ulimit type: nofiles");
    expect(refusal(() => buildRuntimeSpec(input({ ulimits: [{ name: "nofile", soft: 20, hard: 10 }] })))).toBe(
      "ulimit soft limit must be less than or equal to hard limit: 20 > 10",
    );
    expect(refusal(() => buildRuntimeSpec(input({ process: { ...input().process, cwd: "app" } })))).toMatch(/absolute path/);
    expect(refusal(() => buildRuntimeSpec(input({ process: { ...input().process, args: [] } })))).toBe("No command specified");
    expect(refusal(() => buildRuntimeSpec(input({ shmSize: -1 })))).toBe("SHM size can not be less than 0");
  });
});

describe("rlimits", () => {
  it("defaults RLIMIT_NOFILE to 1024/524288 within the host's hard limit", () => {
    expect(buildRuntimeSpec(input()).process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", soft: 1024, hard: 524288 }]);
    const low = buildRuntimeSpec(input({ hostLimits: { RLIMIT_NOFILE: { soft: 1024, hard: 4096 } } }));
    expect(low.process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", soft: 1024, hard: 4096 }]);
  });

  it("applies --ulimit, bounding hard (and soft) limits by the host's hard limits", () => {
    const spec = buildRuntimeSpec(
      input({
        ulimits: [
          { name: "nofile", soft: 100000, hard: 2000000 },
          { name: "RLIMIT_NPROC", soft: 50, hard: 100 },
          { name: "core", soft: -1, hard: -1 },
        ],
        hostLimits: {
          RLIMIT_NOFILE: { soft: 1024, hard: 65536 },
          RLIMIT_NPROC: { soft: 1000, hard: 1000 },
          RLIMIT_CORE: { soft: 0, hard: RLIM_INFINITY },
        },
      }),
    );
    expect(spec.process.rlimits).toEqual([
      { type: "RLIMIT_NOFILE", soft: 65536, hard: 65536 },
      { type: "RLIMIT_NPROC", soft: 50, hard: 100 },
      { type: "RLIMIT_CORE", soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
    const json = specToJson(spec);
    expect(json).toContain('{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615}');
    expect(json).toContain('{"type":"RLIMIT_NOFILE","hard":65536,"soft":65536}');
  });

  it("parses /proc/self/limits", async () => {
    const text = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max cpu time              unlimited            unlimited            seconds   ",
      "Max stack size            8388608              unlimited            bytes     ",
      "Max open files            1024                 1048576              files     ",
      "Max nice priority         0                    0                    ",
      "Max realtime timeout      unlimited            unlimited            us        ",
    ].join("\n");
    expect(parseHostLimits(text)).toEqual({
      RLIMIT_CPU: { soft: -1, hard: -1 },
      RLIMIT_STACK: { soft: 8388608, hard: -1 },
      RLIMIT_NOFILE: { soft: 1024, hard: 1048576 },
      RLIMIT_NICE: { soft: 0, hard: 0 },
      RLIMIT_RTTIME: { soft: -1, hard: -1 },
    });
    const host = await readHostLimits();
    expect(host.RLIMIT_NOFILE?.hard).toBeGreaterThan(0);
    expect(Object.keys(host)).toHaveLength(16);
  });
});

describe("buildExecProcess", () => {
  const base = {
    args: ["ls", "-l"],
    env: ["PATH=/bin"],
    cwd: "/tmp",
    uid: 1000,
    gid: 1000,
    additionalGids: [],
    terminal: true,
    consoleSize: { height: 24, width: 80 },
    privileged: false,
    capAdd: ["NET_ADMIN"],
    capDrop: ["CHOWN"],
    noNewPrivileges: false,
  };

  it("runs with the container's capabilities and rlimits", () => {
    const rlimits = buildRuntimeSpec(input()).process.rlimits;
    const p = buildExecProcess({ ...base, rlimits });
    expect(p.args).toEqual(["ls", "-l"]);
    expect(p.cwd).toBe("/tmp");
    expect(p.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [] });
    expect(p.terminal).toBe(true);
    expect(p.consoleSize).toEqual({ height: 24, width: 80 });
    expect(p.capabilities.bounding).toContain("CAP_NET_ADMIN");
    expect(p.capabilities.bounding).not.toContain("CAP_CHOWN");
    expect(p.capabilities.bounding).toEqual(buildRuntimeSpec(input({ capAdd: ["NET_ADMIN"], capDrop: ["CHOWN"] })).process.capabilities.bounding);
    expect(p.capabilities.inheritable).toEqual([]);
    expect(p.rlimits).toEqual(rlimits);
    expect(buildExecProcess({ ...base, privileged: true }).capabilities.effective).toEqual(hostCapabilities());
    expect(JSON.parse(specToJson(p))).toEqual(p);
  });

  it("refuses a relative working directory and an empty command", () => {
    expect(refusal(() => buildExecProcess({ ...base, cwd: "tmp" }))).toMatch(/absolute path/);
    expect(refusal(() => buildExecProcess({ ...base, args: [] }))).toBe("No command specified");
  });
});
