import { randomBytes } from "node:crypto";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { checkEntry, CorruptLayerError, extractTar, UnsafeLayerError } from "../snapshots/apply-layer";
import { openLayerStream } from "../snapshots/decompress";
import { readLayerTar } from "../snapshots/layer-reader";
import { SymlinkLoopError } from "../snapshots/secure-path";
import { COPY_RULES, ViewTarget } from "./archive-extract";
import { containerAbsPath, type ContainerPathStat, goBase, pathStatOf } from "./archive-stat";
import { treeToTar } from "./archive-tar";
import { checkWritable, ContainerView, type Node, type ViewMount, ViewPathError } from "./archive-view";
import { openConfinedSource } from "./confined-bind";
import type { ContainerRecord } from "./container-store";
import type { EngineVolumes } from "./deps";
import type { ContainerEngine } from "./engine";
import { EngineError } from "./errors";
import type { EventBus } from "./events";
import { resolveUser } from "./resolve-user";

// docker cp and docker export (dockerd's daemon/archive*.go): a path's stat,
// a path as a tar, a tar extracted into a directory, the whole root
// filesystem as a tar; on running and stopped containers alike. Everything
// goes through the container's view (archive-view.ts): paths resolve inside
// the container, mounts are read and written in their host directories, and
// a container changing its files meanwhile can't redirect us to the host's.
// Each operation holds the container's lock (engine.withRootfs), as dockerd
// holds its container lock, for as long as the archive streams.

const O_PATH = 0o10000000;

export interface ArchiveDeps {
  engine: Pick<ContainerEngine, "get" | "paths" | "withRootfs">;
  volumes: Pick<EngineVolumes, "get">;
  events: EventBus;
  /** Scratch space on the agent root's filesystem (uploads are kept here until read whole). */
  tmpDir: string;
}

export interface PutOptions {
  /** Refuse to replace a directory with a non-directory and the reverse (the CLI always asks for this). */
  noOverwriteDirNonDir: boolean;
  /** docker cp -a: the files belong to the container's user (when it has one), not to the archive's owners. */
  copyUIDGID: boolean;
}

/** Streams a tar to whoever asked, resolving once it is sent or the reader went away. */
export type SendTar = (tar: Readable, stat?: ContainerPathStat) => Promise<void>;

export class ContainerArchive {
  constructor(private readonly deps: ArchiveDeps) {}

  /** Throws NOT_FOUND unless the container exists. */
  exists(key: string): void {
    this.deps.engine.get(key);
  }

  /** HEAD /containers/{id}/archive: the path's stat, its last component not followed (unless it ends in "/" or "/."). */
  async stat(key: string, unsafePath: string): Promise<ContainerPathStat> {
    const abs = checkedPath(unsafePath);
    return this.deps.engine.withRootfs(key, (record) =>
      this.inView(record, key, unsafePath, { withMounts: true }, async (view) => {
        const r = await this.resolveExisting(view, key, unsafePath, abs);
        try {
          return await statOf(view, r.node, abs);
        } finally {
          await r.release();
        }
      }),
    );
  }

  /** GET /containers/{id}/archive: the stat, then the tar of the path (`send` streams it; the lock is held until it is done). */
  async get(key: string, unsafePath: string, send: SendTar): Promise<void> {
    const abs = checkedPath(unsafePath);
    await this.deps.engine.withRootfs(key, (record) =>
      this.inView(record, key, unsafePath, { withMounts: true }, async (view) => {
        const r = await this.resolveExisting(view, key, unsafePath, abs);
        try {
          const stat = await statOf(view, r.node, abs);
          const { tar, done } = treeToTar(view, { node: r.node, parent: r.parent }, { rootName: goBase(abs) });
          this.emit(record, "archive-path");
          await send(tar, stat);
          tar.destroy();
          await done;
        } finally {
          await r.release();
        }
      }),
    );
  }

  /** GET /containers/{id}/export: the root filesystem (without what is mounted on it), as docker export names it. */
  async export(key: string, send: SendTar): Promise<void> {
    await this.deps.engine.withRootfs(key, (record) =>
      this.inView(record, key, "/", { withMounts: false }, async (view) => {
        const { tar, done } = treeToTar(view, { node: view.rootNode, parent: null }, { rootName: null });
        this.emit(record, "export");
        await send(tar);
        tar.destroy();
        await done;
      }),
    );
  }

  /**
   * PUT /containers/{id}/archive: extracts `body` (a tar, maybe compressed)
   * into the directory at `unsafePath`. The upload is kept whole and every
   * entry checked first (no name climbing out or absolute, no link leading
   * out, nothing the extraction can't make): a refused archive writes nothing.
   */
  async put(key: string, unsafePath: string, body: Readable, options: PutOptions): Promise<void> {
    checkedPath(unsafePath);
    this.deps.engine.get(key);
    const spool = await this.spool(body);
    try {
      const rules = { ...COPY_RULES, noOverwriteDirNonDir: options.noOverwriteDirNonDir };
      await readEntries(spool, async ({ header }) => checkEntry(header, rules));
      await this.deps.engine.withRootfs(key, (record) =>
        this.inView(record, key, unsafePath, { withMounts: true }, async (view) => {
          // Its last component followed: an archive may be extracted into a symlink to a directory.
          const dest = await view.resolve(unsafePath, { followFinal: true });
          try {
            if (!dest.node) throw notFound(unsafePath, key);
            if (!(await dest.node.handle.stat()).isDirectory()) throw new EngineError("INVALID", "extraction point is not a directory");
            checkWritable(dest.node.area, dest.path);
            const owner = options.copyUIDGID && record.config.User ? await resolveUser(this.deps.engine.paths(record.id).rootfs, record.config.User) : undefined;
            await extractTar(openLayerStream(createReadStream(spool), "archive"), new ViewTarget(view, dest.path), { ...rules, ...(owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}) }).catch((e: unknown) => {
              // Below the destination, a path that doesn't lead anywhere is the archive's problem, not a missing destination.
              throw e instanceof ViewPathError ? new EngineError("INVALID", `cannot extract the archive: ${e.message}`) : e;
            });
          } finally {
            await dest.release();
          }
          this.emit(record, "extract-to-dir");
        }),
      );
    } finally {
      await rm(spool, { force: true });
    }
  }

  /** Runs `task` on the container's view, translating what goes wrong in it into the answers dockerd gives. */
  private async inView<T>(record: ContainerRecord, key: string, unsafePath: string, options: { withMounts: boolean }, task: (view: ContainerView) => Promise<T>): Promise<T> {
    const view = await ContainerView.open(this.deps.engine.paths(record.id).rootfs, options.withMounts ? this.mountsOf(record) : [], {
      withMounts: options.withMounts,
      readonlyRootfs: record.host.ReadonlyRootfs,
    });
    try {
      return await task(view);
    } catch (e) {
      if (e instanceof ViewPathError) throw notFound(unsafePath, key);
      if (e instanceof SymlinkLoopError) throw new EngineError("INVALID", e.message);
      throw copyError(e);
    } finally {
      await view.close();
    }
  }

  private async resolveExisting(view: ContainerView, key: string, unsafePath: string, abs: string): Promise<{ node: Node; parent: Node | null; release(): Promise<void> }> {
    // A trailing "/" or "/." asks for the directory: a final symlink is followed then (as lstat of "link/" follows it).
    const r = await view.resolve(abs, { followFinal: abs === "/" || abs.endsWith("/") || abs.endsWith("/.") });
    if (!r.node) {
      await r.release();
      throw notFound(unsafePath, key);
    }
    return { node: r.node, parent: r.parent, release: r.release };
  }

  /** What runc mounts, in its order: the container's mounts, then its /etc/resolv.conf, hostname and hosts. */
  private mountsOf(record: ContainerRecord): ViewMount[] {
    const p = this.deps.engine.paths(record.id);
    const out: ViewMount[] = [];
    for (const m of record.mounts) {
      const base = { destination: m.destination, readOnly: m.readOnly };
      if (m.type === "tmpfs") {
        // Its files live only in the running container's own mount: an empty directory here, as dockerd's private view shows one.
        out.push({ ...base, kind: "tmpfs", readOnly: true, open: () => this.emptyDir() });
      } else if (m.type === "volume") {
        out.push({ ...base, kind: "volume", open: () => openPath(this.deps.volumes.get(m.source).Mountpoint, `volume ${m.source}`) });
      } else {
        const prefixes = record.confinement?.bindPrefixes;
        // Under the deploy policy's allowlist, where the source really leads is checked as at every start.
        out.push({ ...base, kind: "bind", open: () => (prefixes ? openConfinedSource(m.source, prefixes, { create: false }).then((o) => o.handle) : openPath(m.source, `bind source ${m.source}`)) });
      }
    }
    for (const [destination, source] of [["/etc/resolv.conf", p.resolvConf], ["/etc/hostname", p.hostname], ["/etc/hosts", p.hosts]] as const) {
      out.push({ destination, kind: "file", readOnly: false, open: () => openPath(source, destination) });
    }
    return out;
  }

  private async emptyDir() {
    const dir = path.join(this.deps.tmpDir, "empty");
    await mkdir(dir, { recursive: true, mode: 0o555 });
    return open(dir, O_PATH | constants.O_DIRECTORY);
  }

  /** The upload, kept whole in the agent's scratch space (read twice: checked, then extracted). */
  private async spool(body: Readable): Promise<string> {
    await mkdir(this.deps.tmpDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.deps.tmpDir, `cp-${randomBytes(8).toString("hex")}.tar`);
    try {
      await pipeline(body, createWriteStream(file, { flags: "wx", mode: 0o600 }));
    } catch (e) {
      await rm(file, { force: true });
      throw new EngineError("INVALID", `the archive could not be received: ${e instanceof Error ? e.message : String(e)}`);
    }
    return file;
  }

  private emit(record: ContainerRecord, action: string): void {
    this.deps.events.emit("container", action, record.id, { name: record.name, image: record.config.Image, ...record.config.Labels });
  }
}

/** The stat header's content: the name as asked (Go's Base), the object's lstat, and for a symlink where it leads in the container. */
async function statOf(view: ContainerView, node: Node, abs: string): Promise<ContainerPathStat> {
  const st = await node.handle.stat({ bigint: true });
  let linkTarget = "";
  if (st.isSymbolicLink()) {
    // Fully resolved in the container, as far as it goes (a dangling link still names where it points).
    const followed = await view.resolve(abs, { followFinal: true }).catch(() => null);
    if (followed) {
      linkTarget = followed.path;
      await followed.release();
    }
  }
  return pathStatOf(goBase(abs), st, linkTarget);
}

function checkedPath(unsafePath: string): string {
  if (unsafePath === "") throw new EngineError("INVALID", "bad parameter: path cannot be empty");
  if (unsafePath.includes("\0")) throw new EngineError("INVALID", "invalid path: it contains a NUL byte");
  return containerAbsPath(unsafePath);
}

/** dockerd's containerFileNotFound. */
function notFound(file: string, container: string): EngineError {
  return new EngineError("NOT_FOUND", `Could not find the file ${file} in container ${container}`);
}

/** An archive refused, in docker cp's terms rather than an image layer's. */
function copyError(e: unknown): unknown {
  if (e instanceof UnsafeLayerError) {
    const reason = e.reason.replace(/the layer root/g, "the destination").replace(/in this layer/g, "in this archive");
    return new EngineError("INVALID", e.entry === null ? `refused archive: ${reason}` : `refused archive entry "${e.entry}": ${reason}`);
  }
  if (e instanceof CorruptLayerError) return new EngineError("INVALID", e.message.replace(/^corrupt layer/, "invalid archive"));
  return e;
}

async function readEntries(file: string, onEntry: Parameters<typeof readLayerTar>[1]): Promise<void> {
  try {
    await readLayerTar(openLayerStream(createReadStream(file), "archive"), onEntry);
  } catch (e) {
    throw copyError(e);
  }
}

/** Opens a host path the agent manages or the container was given (following symlinks, as mount(8) does), by descriptor. */
async function openPath(p: string, what: string) {
  try {
    return await open(p, O_PATH);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new EngineError("NOT_FOUND", `${what} does not exist on the host`);
    throw e;
  }
}
