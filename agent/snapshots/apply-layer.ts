import { constants, fchmodSync, fchownSync, futimesSync, type Stats } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Header } from "tar-stream";
import { CorruptLayerError, ReplaceRefusedError, UnsafeLayerError } from "./errors";
import { readLayerTar, type LayerEntry } from "./layer-reader";
import { xattrsOf, type RawPaxRecords } from "./pax-records";
import { resolveInRoot, SymlinkLoopError } from "./secure-path";
import { isXattrUnsupported, makeDevice, makeFifo, setXattr } from "./special-files";

export { CorruptLayerError, ReplaceRefusedError, UnsafeLayerError } from "./errors";

// Unpacks one layer (an uncompressed tar) into a directory, the way Docker's
// overlay2 driver does: AUFS-style whiteouts become overlayfs whiteouts, an
// entry replaces whatever the layer put at its path before (directories merge),
// owners, modes, times and xattrs are kept.
//
// Confinement: entry names are cleaned lexically first, like Docker's
// filepath.Clean: a name that climbs above the root with ".." is refused, an
// absolute name is taken relative to the root ("/etc/x" -> root/etc/x). Then
// every path is resolved with resolveInRoot (secure-path.ts), so symlinks the
// layer created earlier are followed as if the root were "/" (a "link -> /"
// followed by "link/etc/x" writes root/etc/x). Symlink targets are stored
// verbatim and never checked: they only mean something inside the container,
// and whatever follows them here is confined. (Docker additionally refuses
// relative symlinks that climb above the root; containerd, like us, doesn't.)
//
// On failure the directory is left half-written; the caller (the snapshotter)
// extracts into a scratch directory and throws it away.
//
// The same extraction unpacks `docker cp` uploads into a container
// (engine/archive-extract.ts), with the rules of dockerd's Untar instead of
// ApplyLayer's (ExtractionRules) and a target (ExtractionTarget) that reaches
// the container's files through descriptors, since a running container can
// change its own files while we write.

export interface ApplyLayerOptions {
  /** Aborting stops the extraction; applyLayer then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Where an extraction writes. Paths it returns are host paths on which the
 * extraction only makes calls that never follow a symlink in their last
 * component (open with O_NOFOLLOW, mkdir, symlink, link, lchown, lutimes,
 * lstat), plus the two below that the target does itself.
 */
export interface ExtractionTarget {
  /** The directory `parts` (relative to the extraction root), created 0755 if missing; symlinks on the way followed, confined. */
  directory(entry: string, parts: string[]): Promise<string>;
  /** Where the existing entry `parts` is, its own last component not followed (a hardlink's source). */
  existing(entry: string, parts: string[]): Promise<string>;
  /** Throws for an entry the target can't take at `parts` (e.g. a mount point); true: skip it (a directory that is one). */
  refuses?(entry: string, parts: string[], isDir: boolean): Promise<boolean>;
  /** Removes whatever is at `target` (the entry `parts`), recursively, never following a symlink. */
  remove(target: string, parts: string[]): Promise<void>;
  /** chmod of `target` itself, never a symlink's target. */
  chmod(target: string, mode: number): Promise<void>;
  /** Directories resolved so far may be stale (a symlink appeared, something was removed): resolve again. */
  forget(): void;
  /** One entry is done: what forget() dropped may be released now. */
  settle?(): Promise<void>;
  /** A directory's times, set by finish() once nothing more is created in it. */
  deferTimes(parts: string[], target: string, times: Times): void;
  /** Deferred times of `target` (entry `parts`) and everything below it are dropped: it was removed. */
  dropTimes(parts: string[], target: string): void;
  /** After the last entry (`complete`: deferred directory times are set) or a failure: descriptors released. */
  finish(complete: boolean): Promise<void>;
}

/** How entries are read: an image layer's rules (ApplyLayer) or docker cp's (Untar). */
export interface ExtractionRules {
  /** AUFS whiteouts (.wh.*) become overlayfs whiteouts (a layer); off: ordinary names (docker cp). */
  whiteouts: boolean;
  /** Absolute names: taken relative to the root (a layer), or refused (docker cp uploads; the docker CLI never sends them). */
  absoluteNames: "root-relative" | "refuse";
  /**
   * Link targets must stay below the extraction root: a relative symlink
   * target may not climb above it (dockerd's breakout check for Untar).
   */
  confineSymlinkTargets: boolean;
  /** An existing directory is never replaced by a non-directory, nor the reverse (the API's noOverwriteDirNonDir). */
  noOverwriteDirNonDir: boolean;
  /** An entry for the root itself (".") is skipped: the destination keeps its own metadata (Untar). */
  skipRootEntry: boolean;
  /** Every entry gets this owner (docker cp -a: the container's user), not the header's. */
  owner?: { uid: number; gid: number };
}

/** Image layers, build contexts and ADD archives. */
export const LAYER_RULES: ExtractionRules = { whiteouts: true, absoluteNames: "root-relative", confineSymlinkTargets: false, noOverwriteDirNonDir: false, skipRootEntry: false };

export interface AppliedLayer {
  /** sha256 of the uncompressed tar stream, as in the image config's rootfs.diff_ids. */
  diffId: string;
  /** Bytes of file content in the layer (Docker's layer "size"). */
  size: number;
}

// Anything else is refused. Note: tar-stream can't read GNU sparse entries
// (Go's reader, so Docker, can); they fail here as unsupported.
const SUPPORTED_TYPES = new Set<string>(["directory", "file", "contiguous-file", "symlink", "link", "character-device", "block-device", "fifo"]);
const OPTIMISTIC_TYPES = new Set<string>(["directory", "file", "contiguous-file", "symlink"]);
const WHITEOUT_PREFIX = ".wh.";
const WHITEOUT_META_PREFIX = ".wh..wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

/**
 * Extracts `tarStream` (uncompressed; see openLayerStream) into `root`, an
 * existing empty directory. Rejects with UnsafeLayerError for a refused entry,
 * CorruptLayerError for a truncated or invalid stream, or the filesystem error.
 */
export async function applyLayer(tarStream: Readable, root: string, opts: ApplyLayerOptions = {}): Promise<AppliedLayer> {
  const resolvedRoot = path.resolve(root);
  return extractTar(tarStream, new RootTarget(resolvedRoot), LAYER_RULES, { ...opts, root: resolvedRoot });
}

/**
 * Extracts `tarStream` (uncompressed) through `target` under `rules`. The
 * target closes its descriptors whatever happens.
 */
export async function extractTar(tarStream: Readable, target: ExtractionTarget, rules: ExtractionRules, opts: ApplyLayerOptions & { root?: string } = {}): Promise<AppliedLayer> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const abort = () => tarStream.destroy(signal?.reason instanceof Error ? signal.reason : new Error("layer extraction aborted"));
  signal?.addEventListener("abort", abort, { once: true });
  const extraction = new Extraction(target, rules, opts.root ?? null);
  let finished = false;
  try {
    const { diffId } = await readLayerTar(tarStream, (entry) => extraction.apply(entry));
    finished = true;
    await target.finish(true);
    return { diffId, size: extraction.size };
  } finally {
    signal?.removeEventListener("abort", abort);
    if (!finished) await target.finish(false).catch(() => {});
  }
}

/**
 * The checks of `rules` that need only the entry itself (its name, type and
 * link target), for reading a whole archive before anything is written.
 * Throws UnsafeLayerError for the first entry refused.
 */
export function checkEntry(header: Pick<Header, "name" | "type" | "linkname">, rules: ExtractionRules): void {
  const name = header.name;
  if (name.includes("\0")) throw new UnsafeLayerError(name, "name contains a NUL byte");
  const parts = entryParts(name, rules);
  const base = parts.at(-1) ?? "";
  if (rules.whiteouts && (base.startsWith(WHITEOUT_PREFIX) || parts[0]?.startsWith(WHITEOUT_META_PREFIX))) return;
  if (!SUPPORTED_TYPES.has(header.type)) throw new UnsafeLayerError(name, `unsupported entry type ${String(header.type)}`);
  if (parts.length === 0 && header.type !== "directory") throw new UnsafeLayerError(name, "a non-directory cannot replace the root");
  if (header.type === "symlink") checkSymlinkTarget(name, parts, header.linkname ?? "", rules);
  if (header.type === "link") hardlinkParts(name, header.linkname ?? "", rules);
}

/** The entry's cleaned path components; refused when it climbs above the root, or is absolute where that is refused. */
function entryParts(name: string, rules: ExtractionRules): string[] {
  if (rules.absoluteNames === "refuse" && name.startsWith("/")) throw new UnsafeLayerError(name, "absolute names are not allowed");
  const parts = cleanPath(name);
  if (parts === null) throw new UnsafeLayerError(name, "path climbs above the layer root");
  return parts;
}

function checkSymlinkTarget(name: string, parts: string[], linkname: string, rules: ExtractionRules): void {
  if (linkname === "" || linkname.includes("\0")) throw new UnsafeLayerError(name, "symlink target is empty or contains a NUL byte");
  // As dockerd's Untar: the target, taken from the link's directory, must stay below the root (an absolute one is the container's own).
  if (rules.confineSymlinkTargets && !linkname.startsWith("/") && cleanPath([...parts.slice(0, -1), linkname].join("/")) === null) {
    throw new UnsafeLayerError(name, `symlink target "${linkname}" is outside the destination`);
  }
}

function hardlinkParts(name: string, linkname: string, rules: ExtractionRules): string[] {
  if (linkname.includes("\0")) throw new UnsafeLayerError(name, "hardlink target contains a NUL byte");
  if (rules.absoluteNames === "refuse" && linkname.startsWith("/")) throw new UnsafeLayerError(name, `hardlink target "${linkname}" is an absolute name`);
  const linkParts = cleanPath(linkname);
  if (linkParts === null || linkParts.length === 0) throw new UnsafeLayerError(name, `hardlink target "${linkname}" is outside the layer root`);
  return linkParts;
}

export interface Times {
  atime: number;
  mtime: number;
}

interface Metadata extends Times {
  uid: number;
  gid: number;
  mode: number;
  xattrs: Map<string, Buffer>;
}

class Extraction {
  size = 0;

  constructor(
    private readonly target: ExtractionTarget,
    private readonly rules: ExtractionRules,
    /** The host root, for a last check of what the path-based target resolves (null: the target confines by descriptor). */
    private readonly root: string | null,
  ) {}

  async apply(entry: LayerEntry): Promise<void> {
    try {
      await this.applyEntry(entry);
    } finally {
      await this.target.settle?.();
    }
  }

  private async applyEntry({ header, pax, content }: LayerEntry): Promise<void> {
    const name = header.name;
    if (name.includes("\0")) throw new UnsafeLayerError(name, "name contains a NUL byte");
    const parts = entryParts(name, this.rules);

    const base = parts.at(-1) ?? "";
    const parentParts = parts.slice(0, -1);
    if (this.rules.whiteouts) {
      if (base === OPAQUE_MARKER) return this.opaque(name, parentParts);
      // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs…) means nothing to overlayfs.
      if (base.startsWith(WHITEOUT_META_PREFIX) || parts[0]?.startsWith(WHITEOUT_META_PREFIX)) return;
      if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(name, parentParts, base.slice(WHITEOUT_PREFIX.length));
    }

    if (!SUPPORTED_TYPES.has(header.type)) throw new UnsafeLayerError(name, `unsupported entry type ${String(header.type)}`);
    const isDir = header.type === "directory";
    if (parts.length === 0) {
      if (!isDir) throw new UnsafeLayerError(name, "a non-directory cannot replace the layer root");
      if (this.rules.skipRootEntry) return;
    }
    if (await this.target.refuses?.(name, parts, isDir)) return;
    const meta = metadataOf(name, header, pax, this.rules.owner);
    const target = await this.resolve(name, parts);
    // The common entries create optimistically and clear only on EEXIST (one
    // lstat less per entry); the rest clear first.
    if (!OPTIMISTIC_TYPES.has(header.type)) await this.clear(name, target, parts, isDir);

    switch (header.type) {
      case "directory":
        return this.directory(name, target, parts, meta);
      case "file":
      case "contiguous-file":
        this.size += header.size;
        return this.file(name, target, parts, meta, content);
      case "symlink":
        checkSymlinkTarget(name, parts, header.linkname ?? "", this.rules);
        return this.symlink(name, target, parts, header.linkname ?? "", meta);
      case "link":
        return this.hardlink(name, target, parts, header.linkname ?? "", meta);
      case "character-device":
      case "block-device":
        await makeDevice(target, header.type === "character-device" ? "char" : "block", header.devmajor, header.devminor);
        return this.finishNode(name, target, meta);
      case "fifo":
        await makeFifo(target);
        return this.finishNode(name, target, meta);
    }
  }

  private async directory(name: string, target: string, parts: string[], meta: Metadata): Promise<void> {
    // An existing directory is kept (its content merges with the layer's); only metadata changes.
    try {
      await mkdir(target, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await this.clear(name, target, parts, true)) await mkdir(target, { mode: 0o700 });
    }
    await this.setOwnerXattrsMode(name, target, meta, true);
    this.target.deferTimes(parts, target, { atime: meta.atime, mtime: meta.mtime });
  }

  private async file(name: string, target: string, parts: string[], meta: Metadata, content: AsyncIterable<Buffer>): Promise<void> {
    // O_EXCL|O_NOFOLLOW: always a fresh inode, never a write through whatever was there (a symlink, say).
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await this.createReplacing(name, target, parts, () => open(target, flags, 0o600));
    try {
      for await (const chunk of content) {
        for (let offset = 0; offset < chunk.length; ) {
          offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
        }
      }
      // chown clears setuid/setgid and security.capability, so: owner, then xattrs, then mode.
      // These only update the in-memory inode of an open file and take
      // microseconds; done synchronously they save three thread-pool round
      // trips per file, which dominate extracting layers of many small files.
      fchownSync(handle.fd, meta.uid, meta.gid);
      await this.setXattrs(name, target, meta.xattrs);
      fchmodSync(handle.fd, meta.mode);
      futimesSync(handle.fd, meta.atime, meta.mtime);
    } finally {
      await handle.close();
    }
  }

  private async symlink(name: string, target: string, parts: string[], linkname: string, meta: Metadata): Promise<void> {
    await this.createReplacing(name, target, parts, () => symlink(linkname, target));
    this.target.forget();
    await lchown(target, meta.uid, meta.gid);
    await this.setXattrs(name, target, meta.xattrs);
    // Linux has no symlink modes.
    await lutimes(target, meta.atime, meta.mtime);
  }

  private async hardlink(name: string, target: string, parts: string[], linkname: string, meta: Metadata): Promise<void> {
    const linkParts = hardlinkParts(name, linkname, this.rules);
    // The target's own last component is not followed: linking a symlink links the symlink, like link(2).
    const source = this.confined(name, await this.existing(name, linkParts));
    let stat: Stats;
    try {
      stat = await lstat(source);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") {
        throw new UnsafeLayerError(name, `hardlink target "${linkname}" does not exist in this layer`, { cause: err });
      }
      throw err;
    }
    if (stat.isDirectory()) throw new UnsafeLayerError(name, `hardlink target "${linkname}" is a directory`);
    if (this.rules.noOverwriteDirNonDir) await this.refuseDirReplacement(name, target, false);
    await link(source, target);
    this.target.forget();
    // Like Docker, the link's header metadata applies to the shared inode (but
    // a symlink has no mode). Unlike Docker, owner and mode are only touched
    // when they differ: chown always drops security.capability and setuid, and
    // writers other than Docker's don't repeat xattrs on hardlink entries, so
    // an unconditional chown would strip ping's capability.
    const isSymlink = stat.isSymbolicLink();
    if (stat.uid !== meta.uid || stat.gid !== meta.gid) await lchown(target, meta.uid, meta.gid);
    await this.setXattrs(name, target, meta.xattrs);
    if (!isSymlink) {
      if ((stat.mode & 0o7777) !== meta.mode || stat.uid !== meta.uid || stat.gid !== meta.gid) await this.target.chmod(target, meta.mode);
      await lutimes(target, meta.atime, meta.mtime);
    }
  }

  /** Owner, xattrs, mode and times of a device or fifo. */
  private async finishNode(name: string, target: string, meta: Metadata): Promise<void> {
    await this.setOwnerXattrsMode(name, target, meta, true);
    await lutimes(target, meta.atime, meta.mtime);
  }

  private async setOwnerXattrsMode(name: string, target: string, meta: Metadata, withMode: boolean): Promise<void> {
    await lchown(target, meta.uid, meta.gid);
    await this.setXattrs(name, target, meta.xattrs);
    // Never a symlink here (checked by the callers); the target does it without following one anyway.
    if (withMode) await this.target.chmod(target, meta.mode);
  }

  private async setXattrs(name: string, target: string, xattrs: Map<string, Buffer>): Promise<void> {
    for (const [key, value] of xattrs) {
      if (key.includes("\0")) throw new UnsafeLayerError(name, "xattr name contains a NUL byte");
      // Overlay's own xattrs are the snapshotter's private encoding (whiteouts,
      // opaque dirs, redirects); a layer must not forge them, only ask for them
      // through .wh. entries.
      if (key.startsWith("trusted.overlay.")) continue;
      try {
        await setXattr(target, key, value);
      } catch (err) {
        // Like Docker, skip xattrs the filesystem can't store or won't let us set
        // (ENOTSUP, EPERM: e.g. user.* on a symlink) rather than failing the pull.
        if (!isXattrUnsupported(err)) throw err;
      }
    }
  }

  /** `dir/.wh.NAME` deletes NAME from the layers below: overlayfs marks that with a 0:0 char device. */
  private async whiteout(name: string, parentParts: string[], hidden: string): Promise<void> {
    if (hidden === "" || hidden === "." || hidden === "..") throw new UnsafeLayerError(name, "whiteout names no file");
    const parts = [...parentParts, hidden];
    const target = await this.resolve(name, parts);
    await this.clear(name, target, parts, false);
    await makeDevice(target, "char", 0, 0);
    await lchown(target, 0, 0);
  }

  /** `dir/.wh..wh..opq`: dir hides everything below it in lower layers. */
  private async opaque(name: string, dirParts: string[]): Promise<void> {
    const dir = this.confined(name, await this.target.directory(name, dirParts));
    await setXattr(dir, "trusted.overlay.opaque", Buffer.from("y"));
  }

  /** Where the entry `parts` goes: its parent resolved (and created) inside the root, its own name not followed. */
  private async resolve(name: string, parts: string[]): Promise<string> {
    if (parts.length === 0) return this.confined(name, await this.target.directory(name, []));
    const dir = this.confined(name, await this.target.directory(name, parts.slice(0, -1)));
    return path.join(dir, parts.at(-1)!);
  }

  private async existing(name: string, parts: string[]): Promise<string> {
    try {
      return await this.target.existing(name, parts);
    } catch (err) {
      if (err instanceof SymlinkLoopError) throw new UnsafeLayerError(name, err.message, { cause: err });
      throw err;
    }
  }

  /** For a path-based target: what it resolved must be below the root (it guarantees this; a mistake here writes to the host). */
  private confined(name: string, resolved: string): string {
    if (this.root !== null && resolved !== this.root && !resolved.startsWith(this.root + path.sep)) {
      throw new UnsafeLayerError(name, `resolves outside the layer root (${resolved})`);
    }
    return resolved;
  }

  /** Runs `create`; if something is in the way (EEXIST), applies the replace rule and tries once more. */
  private async createReplacing<T>(name: string, target: string, parts: string[], create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    await this.clear(name, target, parts, false);
    return create();
  }

  /**
   * Docker's replace rule: whatever is at `target` goes, unless both it and
   * the entry are directories. Returns whether `target` is now free.
   */
  private async clear(name: string, target: string, parts: string[], isDir: boolean): Promise<boolean> {
    let stat: Stats;
    try {
      stat = await lstat(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw err;
    }
    if (isDir && stat.isDirectory()) return false;
    if (this.rules.noOverwriteDirNonDir) refuseReplacement(name, stat.isDirectory(), isDir);
    await this.target.remove(target, parts);
    this.target.forget();
    this.target.dropTimes(parts, target);
    return true;
  }

  private async refuseDirReplacement(name: string, target: string, isDir: boolean): Promise<void> {
    const stat = await lstat(target).catch(() => null);
    if (stat) refuseReplacement(name, stat.isDirectory(), isDir);
  }
}

/** noOverwriteDirNonDir: dockerd's wording. */
function refuseReplacement(name: string, existingIsDir: boolean, entryIsDir: boolean): void {
  if (existingIsDir && !entryIsDir) throw new ReplaceRefusedError(`cannot overwrite directory "${name}" with non-directory`);
  if (!existingIsDir && entryIsDir) throw new ReplaceRefusedError(`cannot overwrite non-directory "${name}" with directory`);
}

/**
 * The path-based target of image layers, build contexts and ADD: a fresh
 * directory only this extraction writes to, so resolving a path and then
 * using it can't race (see secure-path.ts).
 */
export class RootTarget implements ExtractionTarget {
  /** Directory times are set last: creating entries inside a directory changes its mtime. */
  private readonly dirTimes = new Map<string, Times>();
  /** Entry parent path -> resolved, existing directory. Dropped whenever a symlink appears or anything is removed. */
  private readonly parents = new Map<string, string>();

  constructor(private readonly root: string) {}

  async directory(name: string, parts: string[]): Promise<string> {
    const key = parts.join("/");
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const dir = await this.resolveConfined(name, key, true);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    this.parents.set(key, dir);
    return dir;
  }

  existing(name: string, parts: string[]): Promise<string> {
    return this.resolveConfined(name, parts.join("/"));
  }

  remove(target: string): Promise<void> {
    return rm(target, { recursive: true, force: true });
  }

  chmod(target: string, mode: number): Promise<void> {
    // chmod follows symlinks, but target is never one here (checked by the callers).
    return chmod(target, mode);
  }

  forget(): void {
    this.parents.clear();
  }

  deferTimes(_parts: string[], target: string, times: Times): void {
    this.dirTimes.set(target, times);
  }

  dropTimes(_parts: string[], target: string): void {
    for (const dir of this.dirTimes.keys()) {
      if (dir === target || dir.startsWith(target + path.sep)) this.dirTimes.delete(dir);
    }
  }

  async finish(complete: boolean): Promise<void> {
    if (complete) {
      for (const [dir, { atime, mtime }] of this.dirTimes) {
        await lutimes(dir, atime, mtime).catch(ignoreMissing);
      }
    }
    this.dirTimes.clear();
  }

  private async resolveConfined(name: string, unsafePath: string, followFinal = false): Promise<string> {
    try {
      return await resolveInRoot(this.root, unsafePath, { followFinal });
    } catch (err) {
      if (err instanceof SymlinkLoopError) throw new UnsafeLayerError(name, err.message, { cause: err });
      throw err;
    }
  }
}

/** Lexically cleaned components of an entry path; null if a relative path climbs above the root with "..". Absolute paths are root-relative. */
export function cleanPath(name: string): string[] | null {
  const out: string[] = [];
  // As in filepath.Clean, ".." at the start of an absolute path stays at "/".
  const absolute = name.startsWith("/");
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) {
        if (absolute) continue;
        return null;
      }
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out;
}

function metadataOf(name: string, header: Header, pax: RawPaxRecords, owner?: { uid: number; gid: number }): Metadata {
  // PAX overrides the header fields it carries (large ids, sub-second times); tar-stream doesn't apply these.
  const mtimeSeconds = paxNumber(name, pax, "mtime") ?? header.mtime.getTime() / 1000;
  const atimeSeconds = paxNumber(name, pax, "atime");
  return {
    mode: header.mode & 0o7777,
    uid: owner?.uid ?? paxInteger(name, pax, "uid") ?? header.uid,
    gid: owner?.gid ?? paxInteger(name, pax, "gid") ?? header.gid,
    mtime: mtimeSeconds,
    // Docker never sets an atime older than the mtime.
    atime: atimeSeconds !== undefined && atimeSeconds > mtimeSeconds ? atimeSeconds : mtimeSeconds,
    xattrs: xattrsOf(pax),
  };
}

function paxInteger(name: string, pax: RawPaxRecords, key: string): number | undefined {
  const text = pax.get(key)?.toString("latin1");
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(text)) throw new CorruptLayerError(name, `PAX ${key} "${text}" is not a valid id`);
  return Number(text);
}

function paxNumber(name: string, pax: RawPaxRecords, key: string): number | undefined {
  const text = pax.get(key)?.toString("latin1");
  if (text === undefined) return undefined;
  if (!/^-?[0-9]{1,12}(\.[0-9]+)?$/.test(text)) throw new CorruptLayerError(name, `PAX ${key} "${text}" is not a valid time`);
  return Number(text);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== "ENOENT") throw err;
}
