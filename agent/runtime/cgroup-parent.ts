import { readdir, readFile, rmdir } from "node:fs/promises";
import path from "node:path";
import { AgentError } from "../errors";

// The agent's cgroup parent (`--cgroup-parent`, containers at /<parent>/<id>)
// exists once per hierarchy: in every cgroup-v1 controller and in the v2
// (unified) tree. runc removes each container's own cgroups when it deletes
// the container, but never the parent it created them under; retiring the
// agent (`teardown`) removes that parent everywhere.

const MOUNTINFO = "/proc/self/mountinfo";
/** The parent's subtree is at most /<parent>/<id>[/<runc's sub-cgroups>]; deeper is not ours. */
const MAX_DEPTH = 8;
/** A container's last process may still be exiting when its cgroup is removed: retry a few times. */
const RMDIR_ROUNDS = 20;
const RMDIR_INTERVAL_MS = 100;

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mount points of every cgroup (v1 controllers and named hierarchies) and cgroup2 filesystem this process sees. */
export function cgroupMountPoints(mountinfo: string): string[] {
  const points = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const [before, after] = line.split(" - ");
    if (!before || !after) continue;
    const fstype = after.split(" ")[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const mountPoint = before.split(" ")[4];
    if (mountPoint) points.add(unescapeMount(mountPoint));
  }
  return [...points];
}

/** The parent as a relative path, refused when it could name anything outside the cgroup trees (or a whole tree). */
function relativeParent(parent: string): string {
  const parts = parent.split("/").filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === "." || p === "..")) throw new AgentError("INVALID", `refusing to remove cgroup parent "${parent}": not a cgroup name`);
  return parts.join("/");
}

/** Directories of a subtree, children before their parents (cgroups are removed leaf first). */
async function leavesFirst(dir: string, depth = 0): Promise<string[]> {
  if (depth > MAX_DEPTH) return [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const children = entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  const nested = await Promise.all(children.map((c) => leavesFirst(c, depth + 1)));
  return [...nested.flat(), dir];
}

const exists = (dir: string) => readdir(dir).then(() => true, () => false);

export interface CgroupRemoval {
  removed: string[];
  /** Directories that are still there: a cgroup with live processes can't be removed. */
  left: string[];
}

/**
 * Removes /<parent> and everything below it in every cgroup hierarchy. Only
 * empty cgroups can go (rmdir fails on one with processes), so nothing that
 * still runs is touched; those are reported in `left`.
 */
export async function removeCgroupParent(parent: string, mountinfo?: string): Promise<CgroupRemoval> {
  const rel = relativeParent(parent);
  const roots = cgroupMountPoints(mountinfo ?? (await readFile(MOUNTINFO, "utf8"))).map((m) => path.join(m, rel));
  const removed: string[] = [];
  let pending: string[] = [];
  for (let round = 0; round < RMDIR_ROUNDS; round++) {
    pending = [];
    for (const root of roots) {
      for (const dir of await leavesFirst(root)) {
        try {
          await rmdir(dir);
          removed.push(dir);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== "ENOENT") pending.push(dir);
        }
      }
    }
    const still = (await Promise.all(roots.map(async (r) => ((await exists(r)) ? r : null)))).filter((r): r is string => r !== null);
    if (still.length === 0) return { removed, left: [] };
    await new Promise((r) => setTimeout(r, RMDIR_INTERVAL_MS));
  }
  return { removed, left: pending };
}
