import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import type { LinuxDevice } from "./spec-types";

// What a spec takes from the host besides limits: the thermal_throttle
// directories Docker masks, and the device nodes a privileged container gets.

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
