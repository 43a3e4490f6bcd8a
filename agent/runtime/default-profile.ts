import type { LinuxDeviceCgroup, OciMount } from "./spec-types";

// Docker's default profile for a container (moby oci/defaults.go): the
// filesystems every container gets, the /proc and /sys paths it may not see
// or change, and the devices it may use.

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

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

export function defaultMounts(shmSize: number): OciMount[] {
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

export function defaultDeviceRules(): LinuxDeviceCgroup[] {
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
