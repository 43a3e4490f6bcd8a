import { constants, fchmodSync, fchownSync, futimesSync, type Stats } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Header } from "tar-stream";
import { CorruptLayerError, UnsafeLayerError } from "./errors";
import { readLayerTar, type LayerEntry } from "./layer-reader";
import { xattrsOf, type RawPaxRecords } from "./pax-records";
import { resolveInRoot, SymlinkLoopError } from "./secure-path";
import { isXattrUnsupported, makeDevice, makeFifo, setXattr } from "./special-files";

export { CorruptLayerError, UnsafeLayerError } from "./errors";

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

export interface ApplyLayerOptions {
  /** Aborting stops the extraction; applyLayer then rejects with the signal's reason. */
  signal?: AbortSignal;
}

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
  const { signal } = opts;
  signal?.throwIfAborted();
  const abort = () => tarStream.destroy(signal?.reason instanceof Error ? signal.reason : new Error("layer extraction aborted"));
  signal?.addEventListener("abort", abort, { once: true });
  try {
    const extraction = new Extraction(path.resolve(root));
    const { diffId } = await readLayerTar(tarStream, (entry) => extraction.apply(entry));
    await extraction.finish();
    return { diffId, size: extraction.size };
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

interface Times {
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
  /** Directory times are set last: creating entries inside a directory changes its mtime. */
  private readonly dirTimes = new Map<string, Times>();
  /** Entry parent path -> resolved, existing directory. Dropped whenever a symlink appears or anything is removed. */
  private readonly parents = new Map<string, string>();

  constructor(private readonly root: string) {}

  async apply({ header, pax, content }: LayerEntry): Promise<void> {
    const name = header.name;
    if (name.includes("\0")) throw new UnsafeLayerError(name, "name contains a NUL byte");
    const parts = cleanPath(name);
    if (parts === null) throw new UnsafeLayerError(name, "path climbs above the layer root");

    const base = parts.at(-1) ?? "";
    const parentParts = parts.slice(0, -1);
    if (base === OPAQUE_MARKER) return this.opaque(name, parentParts);
    // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs…) means nothing to overlayfs.
    if (base.startsWith(WHITEOUT_META_PREFIX) || parts[0]?.startsWith(WHITEOUT_META_PREFIX)) return;
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(name, parentParts, base.slice(WHITEOUT_PREFIX.length));

    if (!SUPPORTED_TYPES.has(header.type)) throw new UnsafeLayerError(name, `unsupported entry type ${String(header.type)}`);
    const meta = metadataOf(name, header, pax);
    const target = await this.resolve(name, parts);
    const isDir = header.type === "directory";
    if (target === this.root && !isDir) throw new UnsafeLayerError(name, "a non-directory cannot replace the layer root");
    // The common entries create optimistically and clear only on EEXIST (one
    // lstat less per entry); the rest clear first.
    if (!OPTIMISTIC_TYPES.has(header.type)) await this.clear(target, isDir);

    switch (header.type) {
      case "directory":
        return this.directory(name, target, meta);
      case "file":
      case "contiguous-file":
        this.size += header.size;
        return this.file(name, target, meta, content);
      case "symlink":
        return this.symlink(name, target, header.linkname ?? "", meta);
      case "link":
        return this.hardlink(name, target, header.linkname ?? "", meta);
      case "character-device":
      case "block-device":
        await makeDevice(target, header.type === "character-device" ? "char" : "block", header.devmajor, header.devminor);
        return this.finishNode(name, target, meta);
      case "fifo":
        await makeFifo(target);
        return this.finishNode(name, target, meta);
    }
  }

  /** Sets the deferred directory times; call after the last entry. */
  async finish(): Promise<void> {
    for (const [dir, { atime, mtime }] of this.dirTimes) {
      await lutimes(dir, atime, mtime).catch(ignoreMissing);
    }
  }

  private async directory(name: string, target: string, meta: Metadata): Promise<void> {
    // An existing directory is kept (its content merges with the layer's); only metadata changes.
    try {
      await mkdir(target, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await this.clear(target, true)) await mkdir(target, { mode: 0o700 });
    }
    await this.setOwnerXattrsMode(name, target, meta, true);
    this.dirTimes.set(target, { atime: meta.atime, mtime: meta.mtime });
  }

  private async file(name: string, target: string, meta: Metadata, content: AsyncIterable<Buffer>): Promise<void> {
    // O_EXCL|O_NOFOLLOW: always a fresh inode, never a write through whatever was there (a symlink, say).
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await this.createReplacing(target, () => open(target, flags, 0o600));
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

  private async symlink(name: string, target: string, linkname: string, meta: Metadata): Promise<void> {
    if (linkname === "" || linkname.includes("\0")) throw new UnsafeLayerError(name, "symlink target is empty or contains a NUL byte");
    await this.createReplacing(target, () => symlink(linkname, target));
    this.parents.clear();
    await lchown(target, meta.uid, meta.gid);
    await this.setXattrs(name, target, meta.xattrs);
    // Linux has no symlink modes.
    await lutimes(target, meta.atime, meta.mtime);
  }

  private async hardlink(name: string, target: string, linkname: string, meta: Metadata): Promise<void> {
    if (linkname.includes("\0")) throw new UnsafeLayerError(name, "hardlink target contains a NUL byte");
    const linkParts = cleanPath(linkname);
    if (linkParts === null || linkParts.length === 0) throw new UnsafeLayerError(name, `hardlink target "${linkname}" is outside the layer root`);
    // The target's own last component is not followed: linking a symlink links the symlink, like link(2).
    const source = await this.resolveConfined(name, linkParts.join("/"));
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
    await link(source, target);
    this.parents.clear();
    // Like Docker, the link's header metadata applies to the shared inode (but
    // a symlink has no mode). Unlike Docker, owner and mode are only touched
    // when they differ: chown always drops security.capability and setuid, and
    // writers other than Docker's don't repeat xattrs on hardlink entries, so
    // an unconditional chown would strip ping's capability.
    const isSymlink = stat.isSymbolicLink();
    if (stat.uid !== meta.uid || stat.gid !== meta.gid) await lchown(target, meta.uid, meta.gid);
    await this.setXattrs(name, target, meta.xattrs);
    if (!isSymlink) {
      if ((stat.mode & 0o7777) !== meta.mode || stat.uid !== meta.uid || stat.gid !== meta.gid) await chmod(target, meta.mode);
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
    // chmod follows symlinks, but target is never one here (checked by the callers).
    if (withMode) await chmod(target, meta.mode);
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
    await this.clear(target, false);
    await makeDevice(target, "char", 0, 0);
    await lchown(target, 0, 0);
  }

  /** `dir/.wh..wh..opq`: dir hides everything below it in lower layers. */
  private async opaque(name: string, dirParts: string[]): Promise<void> {
    const dir = await this.directoryFor(name, dirParts);
    await setXattr(dir, "trusted.overlay.opaque", Buffer.from("y"));
  }

  /** Where the entry `parts` goes: its parent resolved (and created) inside the root, its own name not followed. */
  private async resolve(name: string, parts: string[]): Promise<string> {
    if (parts.length === 0) return this.root;
    const dir = await this.directoryFor(name, parts.slice(0, -1));
    return path.join(dir, parts.at(-1)!);
  }

  /** The resolved directory for `parts`, created (0755 root:root, like Docker) if missing. */
  private async directoryFor(name: string, parts: string[]): Promise<string> {
    const key = parts.join("/");
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const dir = await this.resolveConfined(name, key, true);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    this.parents.set(key, dir);
    return dir;
  }

  private async resolveConfined(name: string, unsafePath: string, followFinal = false): Promise<string> {
    let resolved: string;
    try {
      resolved = await resolveInRoot(this.root, unsafePath, { followFinal });
    } catch (err) {
      if (err instanceof SymlinkLoopError) throw new UnsafeLayerError(name, err.message, { cause: err });
      throw err;
    }
    // resolveInRoot guarantees this; checked again because a mistake here writes to the host.
    if (resolved !== this.root && !resolved.startsWith(this.root + path.sep)) {
      throw new UnsafeLayerError(name, `resolves outside the layer root (${resolved})`);
    }
    return resolved;
  }

  /** Runs `create`; if something is in the way (EEXIST), applies the replace rule and tries once more. */
  private async createReplacing<T>(target: string, create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    await this.clear(target, false);
    return create();
  }

  /**
   * Docker's replace rule: whatever is at `target` goes, unless both it and
   * the entry are directories. Returns whether `target` is now free.
   */
  private async clear(target: string, isDir: boolean): Promise<boolean> {
    let stat: Stats;
    try {
      stat = await lstat(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw err;
    }
    if (isDir && stat.isDirectory()) return false;
    await rm(target, { recursive: true, force: true });
    this.parents.clear();
    for (const dir of this.dirTimes.keys()) {
      if (dir === target || dir.startsWith(target + path.sep)) this.dirTimes.delete(dir);
    }
    return true;
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

function metadataOf(name: string, header: Header, pax: RawPaxRecords): Metadata {
  // PAX overrides the header fields it carries (large ids, sub-second times); tar-stream doesn't apply these.
  const mtimeSeconds = paxNumber(name, pax, "mtime") ?? header.mtime.getTime() / 1000;
  const atimeSeconds = paxNumber(name, pax, "atime");
  return {
    mode: header.mode & 0o7777,
    uid: paxInteger(name, pax, "uid") ?? header.uid,
    gid: paxInteger(name, pax, "gid") ?? header.gid,
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
