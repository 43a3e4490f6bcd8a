import { describe, expect, it } from "vitest";
import { defaultSeccomp, type LinuxSeccomp } from "../../../agent/runtime/seccomp-profile";
import { DEFAULT_CAPABILITIES } from "../../../lib/docker/capabilities";

const defaults = [...DEFAULT_CAPABILITIES];

/** Rules that mention a syscall. */
const rulesFor = (p: LinuxSeccomp, name: string) => (p.syscalls ?? []).filter((r) => r.names.includes(name));
/** Allowed without argument conditions. */
const allowedOutright = (p: LinuxSeccomp, name: string) =>
  rulesFor(p, name).some((r) => r.action === "SCMP_ACT_ALLOW" && !r.args?.length);

describe("defaultSeccomp: Docker's default profile in runtime-spec form", () => {
  it("denies by default with EPERM and lists native + sub-architectures", () => {
    const p = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    expect(p.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(p.defaultErrnoRet).toBe(1);
    expect(p.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    expect(defaultSeccomp({ capabilities: defaults, arch: "x64" }).architectures).toEqual(p.architectures);
    expect(defaultSeccomp({ capabilities: defaults, arch: "aarch64" }).architectures).toEqual([
      "SCMP_ARCH_AARCH64",
      "SCMP_ARCH_ARM",
    ]);
  });

  it("strips includes/excludes and keeps only runtime-spec fields", () => {
    const p = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    for (const r of p.syscalls ?? []) {
      for (const k of Object.keys(r)) expect(["names", "action", "errnoRet", "args"]).toContain(k);
      expect(r.names.length).toBeGreaterThan(0);
    }
    expect(JSON.stringify(p)).not.toMatch(/includes|excludes|minKernel|comment/);
  });

  it("allows ordinary syscalls and denies the dangerous ones without capabilities", () => {
    const p = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    for (const s of ["read", "write", "openat", "execve", "futex", "epoll_wait", "io_uring_setup", "pidfd_open"]) {
      expect(allowedOutright(p, s), s).toBe(true);
    }
    for (const s of ["mount", "umount2", "unshare", "setns", "bpf", "perf_event_open", "reboot", "init_module", "kexec_load", "open_by_handle_at", "keyctl", "add_key"]) {
      expect(rulesFor(p, s), s).toEqual([]);
    }
    // CAP_SYS_CHROOT is a default capability.
    expect(allowedOutright(p, "chroot")).toBe(true);
  });

  it("allows the mount family with CAP_SYS_ADMIN, not without", () => {
    const without = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    const withAdmin = defaultSeccomp({ capabilities: [...defaults, "CAP_SYS_ADMIN"], arch: "x86_64" });
    for (const s of ["mount", "umount2", "unshare", "setns", "sethostname", "fsopen", "move_mount", "open_tree"]) {
      expect(allowedOutright(withAdmin, s), s).toBe(true);
      expect(allowedOutright(without, s), s).toBe(false);
    }
  });

  it("restricts clone and clone3 when CAP_SYS_ADMIN is absent", () => {
    const p = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    expect(rulesFor(p, "clone")).toEqual([
      {
        names: ["clone"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ]);
    expect(rulesFor(p, "clone3")).toEqual([{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }]);

    const admin = defaultSeccomp({ capabilities: [...defaults, "CAP_SYS_ADMIN"], arch: "x86_64" });
    expect(allowedOutright(admin, "clone")).toBe(true);
    expect(rulesFor(admin, "clone").some((r) => r.args?.length)).toBe(false);
    expect(rulesFor(admin, "clone3").map((r) => r.action)).toEqual(["SCMP_ACT_ALLOW"]);

    // s390x passes clone flags as the second argument.
    const s390 = defaultSeccomp({ capabilities: defaults, arch: "s390x" });
    expect(rulesFor(s390, "clone").map((r) => r.args?.[0].index)).toEqual([1]);
    expect(s390.architectures).toEqual(["SCMP_ARCH_S390X", "SCMP_ARCH_S390"]);
  });

  it("keeps personality and socket argument filters", () => {
    const p = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    const personality = rulesFor(p, "personality");
    expect(personality.every((r) => r.action === "SCMP_ACT_ALLOW" && r.args?.length === 1)).toBe(true);
    expect(personality.map((r) => r.args?.[0])).toEqual(
      [0, 8, 131072, 131080, 4294967295].map((value) => ({ index: 0, value, op: "SCMP_CMP_EQ" })),
    );
    expect(rulesFor(p, "socket")).toEqual([
      { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 40, op: "SCMP_CMP_NE" }] },
    ]);
    expect(allowedOutright(p, "socketpair")).toBe(true);
  });

  it("allows ptrace on any kernel we run (minKernel 4.8) and kcmp only with CAP_SYS_PTRACE", () => {
    const p = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    expect(allowedOutright(p, "ptrace")).toBe(true);
    expect(allowedOutright(p, "process_vm_readv")).toBe(true);
    expect(rulesFor(p, "kcmp")).toEqual([]);
    expect(rulesFor(p, "pidfd_getfd")).toEqual([]);
    const traced = defaultSeccomp({ capabilities: [...defaults, "CAP_SYS_PTRACE"], arch: "x86_64" });
    expect(allowedOutright(traced, "kcmp")).toBe(true);
    expect(allowedOutright(traced, "pidfd_getfd")).toBe(true);
  });

  it("filters capability rules against the bounding set given", () => {
    const none = defaultSeccomp({ capabilities: [], arch: "x86_64" });
    expect(rulesFor(none, "chroot")).toEqual([]);
    const caps: Array<[string, string]> = [
      ["CAP_SYS_TIME", "clock_settime"],
      ["CAP_SYS_MODULE", "finit_module"],
      ["CAP_SYS_BOOT", "reboot"],
      ["CAP_SYS_NICE", "mbind"],
      ["CAP_SYSLOG", "syslog"],
      ["CAP_BPF", "bpf"],
      ["CAP_PERFMON", "perf_event_open"],
      ["CAP_DAC_READ_SEARCH", "open_by_handle_at"],
      ["CAP_SYS_RAWIO", "iopl"],
      ["CAP_SYS_PACCT", "acct"],
      ["CAP_SYS_TTY_CONFIG", "vhangup"],
    ];
    for (const [cap, call] of caps) {
      expect(allowedOutright(none, call), call).toBe(false);
      expect(allowedOutright(defaultSeccomp({ capabilities: [cap], arch: "x86_64" }), call), call).toBe(true);
    }
  });

  it("filters architecture rules against the native architecture", () => {
    const amd64 = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    expect(allowedOutright(amd64, "arch_prctl")).toBe(true);
    expect(allowedOutright(amd64, "modify_ldt")).toBe(true);
    expect(rulesFor(amd64, "set_tls")).toEqual([]);
    expect(rulesFor(amd64, "riscv_flush_icache")).toEqual([]);
    const arm64 = defaultSeccomp({ capabilities: defaults, arch: "arm64" });
    expect(allowedOutright(arm64, "set_tls")).toBe(true);
    expect(rulesFor(arm64, "arch_prctl")).toEqual([]);
  });

  it("returns a fresh object every time", () => {
    const a = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    a.syscalls?.[0].names.push("kexec_load");
    const b = defaultSeccomp({ capabilities: defaults, arch: "x86_64" });
    expect(b.syscalls?.[0].names).not.toContain("kexec_load");
  });
});
