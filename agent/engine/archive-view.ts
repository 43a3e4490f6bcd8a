import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readlink } from "node:fs/promises";
import path from "node:path";
import { MAX_SYMLINK_EXPANSIONS, SymlinkLoopError } from "../snapshots/secure-path";
import { EngineError } from "./errors";

// A container's filesystem as its processes see it, for docker cp and
// export: its root is "/", and each volume, bind mount and per-container
// /etc file is found at its destination, read and written in its host
// directory. Paths resolve as secure-path.ts resolves them (".." stops at
// "/", an absolute symlink restarts there, every symlink is expanded by hand),
// but through descriptors: each component is opened with O_PATH|O_NOFOLLOW
// relative to the descriptor of the directory before it
// (/proc/<pid>/fd/<dir>/<name>, Node's stand-in for openat), and every later
// call names an object through a descriptor and at most one last component
// that is never followed. A running container can swap any of its
// directories for a symlink at any moment; that changes what a name means
// from then on, never where a descriptor we hold leads, so nothing we do
// can reach the host's files (the race CVE-2018-15664 was about).

const O_PATH = 0o10000000;

export type AreaKind = "rootfs" | "volume" | "bind" | "file" | "tmpfs";

/** The filesystem a node lives in: the container's root filesystem or one mount. */
export interface Area {
  kind: AreaKind;
  /** Container path where it is mounted ("/" for the root filesystem). */
  destination: string;
  readOnly: boolean;
}

/** What is mounted where: its root, opened on first use. */
export interface ViewMount extends Area {
  open(): Promise<FileHandle>;
}

/** An object in the view, held by an O_PATH descriptor (a symlink itself, never its target). */
export interface Node {
  handle: FileHandle;
  /** Its container path, without symlinks. */
  path: string;
  area: Area;
  /** The view's own (the root, a mount's root): never closed by whoever got it. */
  shared: boolean;
}

export interface Resolution {
  /** The object, or null when the last component doesn't exist. */
  node: Node | null;
  /** Its container path (symlinks on the way expanded). */
  path: string;
  /** The directory holding it, where its name is looked up (null for "/"). */
  parent: Node | null;
  /** Its name in `parent` ("/" for the root). */
  name: string;
  /** Closes the descriptors this resolution opened (node and parent included). */
  release(): Promise<void>;
}

/** A path that doesn't exist in the container (ENOENT), or goes through a non-directory (ENOTDIR). */
export class ViewPathError extends Error {
  constructor(
    readonly code: "ENOENT" | "ENOTDIR",
    readonly containerPath: string,
  ) {
    super(`${containerPath}: ${code === "ENOENT" ? "no such file or directory" : "not a directory"}`);
    this.name = "ViewPathError";
  }
}

/** `/proc/<pid>/fd/<n>`: the object itself, for this process and the tools it spawns (mknod, setfattr). */
export function fdPath(handle: FileHandle): string {
  return `/proc/${process.pid}/fd/${handle.fd}`;
}

/** Path components, without empty ones and "."; ".." is kept for the walk to clamp. */
function components(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

export interface ViewOptions {
  /** Look mount destinations up (docker cp); export reads the root filesystem alone. */
  withMounts: boolean;
  readonlyRootfs: boolean;
}

export class ContainerView {
  /** Mount destination (resolved as runc resolves it) → the mount. */
  private readonly mounts = new Map<string, ViewMount>();
  private readonly mountRoots = new Map<string, Promise<Node>>();

  private constructor(private readonly root: Node) {}

  /**
   * Opens the view on `rootfs` (the agent's own directory, trusted) and
   * `mounts` in the order runc mounts them: each destination resolved within
   * the view as it stands then, as runc does (a symlink in the image moves
   * where a mount lands).
   */
  static async open(rootfs: string, mounts: ViewMount[], options: ViewOptions): Promise<ContainerView> {
    const handle = await open(rootfs, O_PATH | constants.O_DIRECTORY);
    const view = new ContainerView({ handle, path: "/", area: { kind: "rootfs", destination: "/", readOnly: options.readonlyRootfs }, shared: true });
    if (!options.withMounts) return view;
    try {
      for (const m of mounts) {
        let at = path.posix.normalize(m.destination);
        try {
          const r = await view.resolve(m.destination, { followFinal: true });
          at = r.path;
          await r.release();
        } catch (e) {
          // A destination under something missing: runc would create it; nothing is there to find meanwhile.
          if (!(e instanceof ViewPathError)) throw e;
        }
        view.mounts.set(at, { ...m, destination: at });
      }
    } catch (e) {
      await view.close();
      throw e;
    }
    return view;
  }

  async close(): Promise<void> {
    await this.root.handle.close().catch(() => {});
    for (const node of this.mountRoots.values()) await node.then((n) => n.handle.close()).catch(() => {});
    this.mountRoots.clear();
  }

  get rootNode(): Node {
    return this.root;
  }

  /** Is the container path `p` (resolved) where something is mounted? */
  isMountPoint(p: string): boolean {
    return this.mounts.has(p);
  }

  /** A mount destination at `p` or below it, if any. */
  mountAtOrBelow(p: string): string | undefined {
    for (const at of this.mounts.keys()) if (at === p || at.startsWith(p === "/" ? "/" : `${p}/`)) return at;
    return undefined;
  }

  /**
   * Resolves `unsafePath` inside the view. The last component is followed
   * only with `followFinal`; with `create`, missing directories on the way
   * are made (0755, root-owned, like dockerd), where the area may be written.
   */
  async resolve(unsafePath: string, options: { followFinal?: boolean; create?: boolean } = {}): Promise<Resolution> {
    const owned: FileHandle[] = [];
    const release = async () => {
      for (const h of owned.splice(0)) await h.close().catch(() => {});
    };
    try {
      const stack: Node[] = [this.root];
      const pending = components(unsafePath);
      let expansions = 0;
      while (pending.length > 0) {
        const part = pending.shift()!;
        if (part === "..") {
          if (stack.length > 1) stack.pop();
          continue;
        }
        const isLast = pending.length === 0;
        const dir = stack.at(-1)!;
        const childPath = path.posix.join(dir.path, part);
        const mounted = this.mounts.get(childPath);
        if (mounted) {
          stack.push(await this.mountRoot(mounted));
          continue;
        }
        let handle = await openChild(dir, part, childPath);
        if (handle === null) {
          if (isLast) return { node: null, path: childPath, parent: dir, name: part, release };
          if (!options.create) throw new ViewPathError("ENOENT", childPath);
          checkWritable(dir.area, childPath);
          await mkdir(`${fdPath(dir.handle)}/${part}`, { mode: 0o755 }).catch((e: unknown) => {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
          });
          handle = await openChild(dir, part, childPath);
          if (handle === null) throw new ViewPathError("ENOENT", childPath);
        }
        owned.push(handle);
        const st = await handle.stat();
        if (st.isSymbolicLink() && (!isLast || options.followFinal)) {
          if (++expansions > MAX_SYMLINK_EXPANSIONS) throw new SymlinkLoopError(unsafePath);
          // Read by name: if it changed since it was opened, the new target is resolved by the same rules.
          const target = await readlink(`${fdPath(dir.handle)}/${part}`);
          if (target.startsWith("/")) stack.length = 1;
          pending.unshift(...components(target));
          continue;
        }
        if (!isLast && !st.isDirectory()) throw new ViewPathError("ENOTDIR", childPath);
        stack.push({ handle, path: childPath, area: dir.area, shared: false });
      }
      const node = stack.at(-1)!;
      return { node, path: node.path, parent: stack.at(-2) ?? null, name: node.path === "/" ? "/" : path.posix.basename(node.path), release };
    } catch (e) {
      await release();
      throw e;
    }
  }

  /**
   * The entry `name` of directory `dir`, not following it if it is a
   * symlink; what is mounted there if something is (when the view looks
   * mounts up); null if there is nothing. Close it with closeNode().
   */
  async child(dir: Node, name: string): Promise<Node | null> {
    const childPath = path.posix.join(dir.path, name);
    const mounted = this.mounts.get(childPath);
    if (mounted) return this.mountRoot(mounted);
    const handle = await openChild(dir, name, childPath);
    return handle && { handle, path: childPath, area: dir.area, shared: false };
  }

  private mountRoot(m: ViewMount): Promise<Node> {
    let node = this.mountRoots.get(m.destination);
    if (!node) {
      node = m.open().then((handle) => ({ handle, path: m.destination, area: { kind: m.kind, destination: m.destination, readOnly: m.readOnly }, shared: true }));
      // A failure is reported to whoever reaches the mount, each time.
      node.catch(() => this.mountRoots.delete(m.destination));
      this.mountRoots.set(m.destination, node);
    }
    return node;
  }
}

/** Closes a node unless it is the view's own. */
export async function closeNode(node: Node | null): Promise<void> {
  if (node && !node.shared) await node.handle.close().catch(() => {});
}

/** Opens `name` in `dir` with O_PATH|O_NOFOLLOW; null if it doesn't exist. */
async function openChild(dir: Node, name: string, childPath: string): Promise<FileHandle | null> {
  try {
    return await open(`${fdPath(dir.handle)}/${name}`, O_PATH | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ENOTDIR") throw new ViewPathError("ENOTDIR", childPath);
    throw e;
  }
}

/** Refuses a write into an area that may not be written, with dockerd's words where it has them. */
export function checkWritable(area: Area, containerPath: string): void {
  if (area.kind === "tmpfs") {
    throw new EngineError("INVALID", `${area.destination} is a tmpfs mount: its files exist only inside the running container (use docker exec to write ${containerPath})`);
  }
  if (!area.readOnly) return;
  throw new EngineError("INVALID", area.kind === "rootfs" ? "container rootfs is marked read-only" : "mounted volume is marked read-only");
}
