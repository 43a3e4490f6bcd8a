// Docker's default seccomp profile (moby profiles/seccomp/default.json), kept
// here as a compact table, and its conversion to the runtime-spec
// `linux.seccomp` object that runc loads.
//
// The profile is an allow list: anything not matched fails with EPERM
// (defaultErrnoRet 1). Some rules only apply when the container holds a
// capability (`includes.caps`: all of them must be in the bounding set), some
// only when it does not (`excludes.caps`: any of them present drops the rule),
// and some only on certain architectures (compared with the native
// architecture's Go name, as dockerd compares with runtime.GOARCH). Rules that
// don't apply are dropped and includes/excludes never reach the spec.
// minKernel conditions are treated as satisfied (every kernel we run on is
// newer than the 4.8 the profile asks for).

export type SeccompAction =
  | "SCMP_ACT_KILL"
  | "SCMP_ACT_KILL_PROCESS"
  | "SCMP_ACT_KILL_THREAD"
  | "SCMP_ACT_TRAP"
  | "SCMP_ACT_ERRNO"
  | "SCMP_ACT_TRACE"
  | "SCMP_ACT_ALLOW"
  | "SCMP_ACT_LOG"
  | "SCMP_ACT_NOTIFY";

export type SeccompOperator =
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_MASKED_EQ";

/** runtime-spec LinuxSeccompArg */
export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

/** runtime-spec LinuxSyscall */
export interface LinuxSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

/** runtime-spec LinuxSeccomp (the `linux.seccomp` object of config.json) */
export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: LinuxSyscall[];
}

interface Condition {
  /** Go architecture names (runtime.GOARCH). */
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface ProfileRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
  includes?: Condition;
  excludes?: Condition;
}

const words = (s: string): string[] => s.trim().split(/\s+/);

/** Native seccomp architecture -> the sub-architectures a process may also use. */
const ARCH_MAP: Record<string, string[]> = {
  SCMP_ARCH_X86_64: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  SCMP_ARCH_AARCH64: ["SCMP_ARCH_ARM"],
  SCMP_ARCH_MIPS64: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
  SCMP_ARCH_MIPS64N32: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
  SCMP_ARCH_MIPSEL64: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
  SCMP_ARCH_MIPSEL64N32: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
  SCMP_ARCH_S390X: ["SCMP_ARCH_S390"],
  SCMP_ARCH_RISCV64: [],
};

/** Go architecture name -> native seccomp architecture (as dockerd's nativeToSeccomp). */
const GO_TO_SECCOMP: Record<string, string> = {
  "386": "SCMP_ARCH_X86",
  amd64: "SCMP_ARCH_X86_64",
  arm64: "SCMP_ARCH_AARCH64",
  mips64: "SCMP_ARCH_MIPS64",
  mips64n32: "SCMP_ARCH_MIPS64N32",
  mipsel64: "SCMP_ARCH_MIPSEL64",
  mipsel64n32: "SCMP_ARCH_MIPSEL64N32",
  s390x: "SCMP_ARCH_S390X",
  riscv64: "SCMP_ARCH_RISCV64",
};

/** uname -m / Node process.arch / Go names -> Go architecture name. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  x64: "amd64",
  amd64: "amd64",
  aarch64: "arm64",
  arm64: "arm64",
  i386: "386",
  i686: "386",
  ia32: "386",
  x86: "386",
  "386": "386",
  armv7l: "arm",
  armv6l: "arm",
  arm: "arm",
  ppc64le: "ppc64le",
  ppc64: "ppc64le", // Node reports little-endian ppc64 as "ppc64"
  s390x: "s390x",
  s390: "s390",
  riscv64: "riscv64",
  mips64: "mips64",
  mips64el: "mipsel64",
  mipsel64: "mipsel64",
};

/** The Go architecture name (amd64, arm64, ...) for a uname, Node or Go name. */
export function goArch(arch: string = process.arch): string {
  return ARCH_ALIASES[arch] ?? arch;
}

const EQ = (index: number, value: number): LinuxSeccompArg => ({ index, value, op: "SCMP_CMP_EQ" });

/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET */
const CLONE_NAMESPACE_FLAGS = 0x7e020000; // 2114060288
const AF_VSOCK = 40;
const ENOSYS = 38;

/** Allowed for every container. */
const ALWAYS_ALLOWED = words(`
  accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
  clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
  clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat
  dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
  epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group
  faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat
  fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
  fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
  futex futex_time64 futex_waitv futimesat
  getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32
  getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority
  getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage
  getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
  inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
  io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get
  ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc
  kill landlock_add_rule landlock_create_ruleset landlock_restrict_self
  lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr
  lseek lsetxattr lstat lstat64
  madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat
  mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
  mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap
  msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
  name_to_handle_at nanosleep newfstatat _newselect open openat openat2
  pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect
  poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease
  pselect6 pselect6_time64 pwrite64 pwritev pwritev2
  read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
  remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
  rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
  rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
  sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
  sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
  sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select
  semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
  sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
  setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
  setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
  set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget
  shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice
  stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo
  tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
  timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64
  timerfd_settime timerfd_settime64 times tkill truncate truncate64
  ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes
  vfork vmsplice wait4 waitid waitpid write writev
`);

const allow = (names: string, extra: Omit<ProfileRule, "names" | "action"> = {}): ProfileRule => ({
  names: words(names),
  action: "SCMP_ACT_ALLOW",
  ...extra,
});
const withCap = (cap: string, names: string): ProfileRule => allow(names, { includes: { caps: [cap] } });
const onArches = (arches: string, names: string): ProfileRule =>
  allow(names, { includes: { arches: words(arches) } });

/** The rules of the default profile, in the profile's order. */
const PROFILE_RULES: readonly ProfileRule[] = [
  { names: ALWAYS_ALLOWED, action: "SCMP_ACT_ALLOW" },
  allow("process_vm_readv process_vm_writev ptrace", { includes: { minKernel: "4.8" } }),
  // Every address family but AF_VSOCK.
  allow("socket", { args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_NE" }] }),
  // personality(2): PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the 0xffffffff query.
  ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value) => allow("personality", { args: [EQ(0, value)] })),
  onArches("ppc64le", "sync_file_range2 swapcontext"),
  onArches("arm arm64", "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
  onArches("amd64 x32", "arch_prctl"),
  onArches("amd64 x32 x86", "modify_ldt"),
  onArches("s390 s390x", "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr"),
  onArches("riscv64", "riscv_flush_icache"),
  withCap("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
  withCap(
    "CAP_SYS_ADMIN",
    `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr
     move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
     umount umount2 unshare`,
  ),
  // Without CAP_SYS_ADMIN, clone(2) may not create namespaces (flags are arg 0, arg 1 on s390).
  allow("clone", {
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: "SCMP_CMP_MASKED_EQ" }],
    excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
  }),
  allow("clone", {
    args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: "SCMP_CMP_MASKED_EQ" }],
    includes: { arches: ["s390", "s390x"] },
    excludes: { caps: ["CAP_SYS_ADMIN"] },
  }),
  // clone3 passes its flags in a struct seccomp can't inspect: make it look
  // unimplemented so libc falls back to clone.
  { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS, excludes: { caps: ["CAP_SYS_ADMIN"] } },
  withCap("CAP_SYS_BOOT", "reboot"),
  withCap("CAP_SYS_CHROOT", "chroot"),
  withCap("CAP_SYS_MODULE", "delete_module init_module finit_module"),
  withCap("CAP_SYS_PACCT", "acct"),
  withCap("CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"),
  withCap("CAP_SYS_RAWIO", "iopl ioperm"),
  withCap("CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"),
  withCap("CAP_SYS_TTY_CONFIG", "vhangup"),
  withCap("CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"),
  withCap("CAP_SYSLOG", "syslog"),
  withCap("CAP_BPF", "bpf"),
  withCap("CAP_PERFMON", "perf_event_open"),
];

function applies(rule: ProfileRule, caps: ReadonlySet<string>, arch: string): boolean {
  const { includes: inc, excludes: exc } = rule;
  if (exc?.arches?.includes(arch)) return false;
  if (exc?.caps?.some((c) => caps.has(c))) return false;
  // excludes.minKernel drops the rule on kernels at least that new, which ours are.
  if (exc?.minKernel) return false;
  if (inc?.arches && !inc.arches.includes(arch)) return false;
  if (inc?.caps && !inc.caps.every((c) => caps.has(c))) return false;
  // includes.minKernel: treated as satisfied.
  return true;
}

/**
 * Docker's default seccomp profile for a container whose bounding set is
 * `capabilities` (names like "CAP_SYS_ADMIN"), running on `arch` (uname,
 * Node or Go name; defaults to this host's), in runtime-spec form.
 */
export function defaultSeccomp(opts: { capabilities: string[]; arch?: string }): LinuxSeccomp {
  const arch = goArch(opts.arch ?? process.arch);
  const caps = new Set(opts.capabilities.map((c) => c.toUpperCase()));
  const native = GO_TO_SECCOMP[arch];
  const architectures = native && native in ARCH_MAP ? [native, ...ARCH_MAP[native]] : [];
  const syscalls: LinuxSyscall[] = [];
  for (const rule of PROFILE_RULES) {
    if (!applies(rule, caps, arch)) continue;
    const out: LinuxSyscall = { names: [...rule.names], action: rule.action };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args) out.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(out);
  }
  return { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures, syscalls };
}
