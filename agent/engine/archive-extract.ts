import { constants } from "node:fs";
import { chmod, type FileHandle, lstat, mkdir, open, readdir, rmdir, unlink, utimes } from "node:fs/promises";
import path from "node:path";
import type { ExtractionRules, ExtractionTarget, Times } from "../snapshots/apply-layer";
import { type ContainerView, checkWritable, fdPath, type Resolution, ViewPathError } from "./archive-view";
import { EngineError } from "./errors";

// Where `docker cp` into a container writes: the shared extraction
// (snapshots/apply-layer.ts) with dockerd's Untar rules, through a target
// that resolves every directory in the container's view (archive-view.ts)
// and hands out paths of the form /proc/<pid>/fd/<dir>/<name>: the directory
// is the one resolved, whatever the container renames or swaps meanwhile,
// and the extraction never follows the last component. Directories are
// created where the area they are in may be written (not in a read-only
// volume, a read-only root filesystem or a tmpfs), and nothing replaces a
// mount point.

const O_PATH = 0o10000000;

/** docker cp's rules (dockerd's Untar); noOverwriteDirNonDir and the owner come with each request. */
export const COPY_RULES: ExtractionRules = { whiteouts: false, absoluteNames: "refuse", confineSymlinkTargets: true, noOverwriteDirNonDir: false, skipRootEntry: true };

export class ViewTarget implements ExtractionTarget {
  /** Entry directory (parts joined) → its resolution, held open. */
  private readonly dirs = new Map<string, Resolution>();
  /** Resolutions forgotten during the current entry: released when it is done. */
  private retired: Resolution[] = [];
  private readonly times = new Map<string, Times>();

  /** `base`: the destination directory's container path, resolved. */
  constructor(
    private readonly view: ContainerView,
    private readonly base: string,
  ) {}

  private containerPath(parts: string[]): string {
    return path.posix.join(this.base, ...parts);
  }

  async directory(entry: string, parts: string[]): Promise<string> {
    return fdPath((await this.directoryResolution(entry, parts, true)).node!.handle);
  }

  async existing(entry: string, parts: string[]): Promise<string> {
    const dir = await this.directoryResolution(entry, parts.slice(0, -1), false);
    return `${fdPath(dir.node!.handle)}/${parts.at(-1)}`;
  }

  async refuses(entry: string, parts: string[], isDir: boolean): Promise<boolean> {
    if (parts.length === 0) return false;
    const dir = await this.directoryResolution(entry, parts.slice(0, -1), true);
    const at = path.posix.join(dir.path, parts.at(-1)!);
    if (!this.view.isMountPoint(at)) return false;
    // A directory entry for a mount point: its content goes into the mount; the mount's own root keeps its metadata.
    if (isDir) return true;
    throw new EngineError("INVALID", `cannot replace ${at} (archive entry "${entry}"): it is a mount point in the container`);
  }

  async remove(target: string, parts: string[]): Promise<void> {
    if (parts.length > 0) {
      // The host sees no mounts in the root filesystem: removing a directory a mount sits on would detach it from the running container.
      const dir = await this.directoryResolution(parts.join("/"), parts.slice(0, -1), false);
      const at = path.posix.join(dir.path, parts.at(-1)!);
      const mount = this.view.mountAtOrBelow(at);
      if (mount) throw new EngineError("INVALID", `cannot replace ${at}: ${mount} is mounted ${mount === at ? "there" : "below it"} in the container`);
    }
    await removeTree(target);
  }

  async chmod(target: string, mode: number): Promise<void> {
    const handle = await open(target, O_PATH | constants.O_NOFOLLOW);
    try {
      // Through the descriptor: the object itself, whatever its name leads to by now. Linux has no symlink modes.
      if (!(await handle.stat()).isSymbolicLink()) await chmod(fdPath(handle), mode);
    } finally {
      await handle.close();
    }
  }

  forget(): void {
    this.retired.push(...this.dirs.values());
    this.dirs.clear();
  }

  async settle(): Promise<void> {
    for (const r of this.retired.splice(0)) await r.release();
  }

  deferTimes(parts: string[], _target: string, times: Times): void {
    this.times.set(parts.join("/"), times);
  }

  dropTimes(parts: string[]): void {
    const key = parts.join("/");
    for (const k of this.times.keys()) if (key === "" || k === key || k.startsWith(`${key}/`)) this.times.delete(k);
  }

  async finish(complete: boolean): Promise<void> {
    try {
      if (complete) {
        for (const [key, { atime, mtime }] of this.times) {
          const r = await this.view.resolve(this.containerPath(key ? key.split("/") : []), { followFinal: true }).catch(() => null);
          if (!r) continue;
          try {
            // utimes follows /proc/<pid>/fd/<n> to the directory it holds.
            if (r.node && (await r.node.handle.stat()).isDirectory()) await utimes(fdPath(r.node.handle), atime, mtime);
          } finally {
            await r.release();
          }
        }
      }
    } finally {
      this.times.clear();
      this.forget();
      await this.settle();
    }
  }

  /** The directory for `parts`, resolved (and created, with `create`) in the view; held until forget(). */
  private async directoryResolution(entry: string, parts: string[], create: boolean): Promise<Resolution> {
    const key = parts.join("/");
    const cached = this.dirs.get(key);
    if (cached) return cached;
    const at = this.containerPath(parts);
    let r = await this.view.resolve(at, { followFinal: true, create });
    if (!r.node && create) {
      checkWritable(r.parent!.area, r.path);
      await mkdir(`${fdPath(r.parent!.handle)}/${r.name}`, { mode: 0o755 }).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      });
      await r.release();
      r = await this.view.resolve(at, { followFinal: true });
    }
    if (!r.node) {
      await r.release();
      throw new ViewPathError("ENOENT", r.path);
    }
    if (!(await r.node.handle.stat()).isDirectory()) {
      await r.release();
      throw new EngineError("INVALID", `cannot extract archive entry "${entry}": ${r.path} is not a directory`);
    }
    if (create) {
      try {
        checkWritable(r.node.area, r.path);
      } catch (e) {
        await r.release();
        throw e;
      }
    }
    this.dirs.set(key, r);
    return r;
  }
}

/**
 * Removes `at` (a path whose last component is never followed) and, for a
 * directory, everything in it, holding each directory by a descriptor while
 * emptying it: a symlink swapped in midway is unlinked, never followed.
 */
async function removeTree(at: string): Promise<void> {
  const st = await lstat(at).catch((e: unknown) => ((e as NodeJS.ErrnoException).code === "ENOENT" ? null : Promise.reject(e)));
  if (!st) return;
  if (!st.isDirectory()) return unlink(at).catch(ignoreMissing);
  let dir: FileHandle;
  try {
    dir = await open(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // No longer a directory: whatever it is now goes, unfollowed.
    if (code === "ELOOP" || code === "ENOTDIR") return unlink(at).catch(ignoreMissing);
    if (code === "ENOENT") return;
    throw e;
  }
  try {
    for (const name of await readdir(fdPath(dir))) await removeTree(`${fdPath(dir)}/${name}`);
  } finally {
    await dir.close();
  }
  await rmdir(at).catch(ignoreMissing);
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
}
