import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { AgentError } from "../errors";
import { syncDir } from "../state/atomic-write";

// Image layer snapshots for overlayfs, laid out like Docker's overlay2 driver:
//
//   root/<hex of ChainID>/diff    the layer's own files (whiteouts as 0:0 char devices)
//   root/<hex>/link               short id of this layer, e.g. "Q3M7…" (26 chars)
//   root/<hex>/lower              "l/<short>:l/<short>…" of the parents, nearest first (absent for a base layer)
//   root/<hex>/parent             ChainID of the parent (absent for a base layer)
//   root/l/<short>                symlink to ../<hex>/diff
//   root/tmp-*                    snapshots being created or removed
//
// The short links exist to keep the overlay mount option small: the kernel
// takes at most one page (4096 bytes) of options, and 120 absolute
// /var/lib/…/<64 hex>/diff paths don't fit, while 120 "l/<26 chars>" do when
// mount runs with the snapshotter root as its working directory.
//
// A snapshot is built in root/tmp-* and renamed into place when complete, so
// one that is visible is always whole, even after a crash; init() clears what
// a crash left behind.

const CHAIN_ID = /^sha256:([a-f0-9]{64})$/;
const SHORT_ID_LENGTH = 26;
const SHORT_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/** mount(2) copies at most one page of options. */
const MAX_MOUNT_OPTIONS = 4095;

export type SnapshotErrorCode = "NOT_FOUND" | "IN_USE" | "INVALID" | "MOUNT_FAILED" | "IO";

export class SnapshotError extends AgentError<SnapshotErrorCode> {
  override name = "SnapshotError";
}

export interface MountOptions {
  /** Without an upperDir the mount is always read-only; with one, this mounts the upper read-only too. */
  readOnly?: boolean;
  /** A writable layer on top (a container's); needs workDir on the same filesystem. */
  upperDir?: string;
  workDir?: string;
}

export interface SnapshotterOptions {
  /**
   * Flush the filesystem (syncfs) before a new snapshot becomes visible, so a
   * power loss can't leave a visible snapshot with missing file contents.
   * Default true.
   */
  durable?: boolean;
}

export class OverlaySnapshotter {
  readonly root: string;
  private readonly links: string;
  private readonly durable: boolean;
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(root: string, options: SnapshotterOptions = {}) {
    this.root = path.resolve(root);
    this.links = path.join(this.root, "l");
    this.durable = options.durable ?? true;
  }

  /**
   * Creates the layout and clears what an interrupted create/remove left
   * behind. Call once at startup, before any create (it deletes in-progress work).
   */
  async init(): Promise<void> {
    await mkdir(this.links, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.root)) {
      if (name.startsWith("tmp-")) await rm(path.join(this.root, name), { recursive: true, force: true });
    }
    // A crash between creating a short link and publishing its snapshot leaves the link dangling.
    for (const name of await readdir(this.links)) {
      const link = path.join(this.links, name);
      if (!existsSync(link)) await rm(link, { force: true });
    }
  }

  has(chainId: string): boolean {
    return existsSync(this.dir(chainId));
  }

  /** The directory holding the layer's own files. */
  diffDir(chainId: string): string {
    return path.join(this.dir(chainId), "diff");
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.root).catch(orEmpty);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async parent(chainId: string): Promise<string | null> {
    return readFile(path.join(this.dir(chainId), "parent"), "utf8").catch(orNull);
  }

  /**
   * Creates snapshot `chainId` on top of `parentChainId`: `fill` writes the
   * layer's files into the directory it is given. No-op if the snapshot
   * exists. Concurrent creates of one ChainID share a single `fill` (the
   * others wait for it and see its outcome). If `fill` throws, nothing is kept.
   */
  create(chainId: string, parentChainId: string | null, fill: (diffDir: string) => Promise<void>): Promise<void> {
    try {
      this.dir(chainId);
      if (parentChainId !== null) this.dir(parentChainId);
    } catch (err) {
      return Promise.reject(err);
    }
    const running = this.inflight.get(chainId);
    if (running) return running;
    if (this.has(chainId)) return Promise.resolve();
    const task = this.build(chainId, parentChainId, fill).finally(() => this.inflight.delete(chainId));
    this.inflight.set(chainId, task);
    return task;
  }

  /** The layers of `chainId` as `l/<short>` paths relative to root, topmost (its own) first. */
  async lowerDirs(chainId: string): Promise<string[]> {
    const dir = this.dir(chainId);
    const own = await readFile(path.join(dir, "link"), "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") throw new SnapshotError("NOT_FOUND", `snapshot ${chainId} does not exist`);
      throw err;
    });
    const lower = await readFile(path.join(dir, "lower"), "utf8").catch(orNull);
    return [`l/${own}`, ...(lower ? lower.split(":") : [])];
  }

  /**
   * Mounts the snapshot at `target` (an existing directory). Without an
   * upperDir the mount is read-only; a single layer is then bind-mounted,
   * since overlayfs wants two lower layers when it has no upper one.
   */
  async mount(chainId: string, target: string, options: MountOptions = {}): Promise<void> {
    const lowers = await this.lowerDirs(chainId);
    const where = path.resolve(target);
    const { upperDir, workDir } = options;
    if ((upperDir === undefined) !== (workDir === undefined)) {
      throw new SnapshotError("INVALID", "an overlay upperDir needs a workDir, and the reverse");
    }
    if (upperDir === undefined && lowers.length === 1) {
      await run("mount", ["--bind", "-o", "ro", this.diffDir(chainId), where], this.root);
      return;
    }
    const parts = [`lowerdir=${lowers.join(":")}`];
    if (upperDir !== undefined && workDir !== undefined) parts.push(`upperdir=${path.resolve(upperDir)}`, `workdir=${path.resolve(workDir)}`);
    // Like Docker: with the inodes index on, reusing lower layers under another upper fails with EBUSY.
    if (existsSync("/sys/module/overlay/parameters/index")) parts.unshift("index=off");
    if (upperDir === undefined || options.readOnly) parts.unshift("ro");
    const opts = parts.join(",");
    if (Buffer.byteLength(opts) > MAX_MOUNT_OPTIONS) {
      throw new SnapshotError("INVALID", `snapshot ${chainId} has too many layers (${lowers.length}) for one overlay mount`);
    }
    // The lowerdirs are relative: the kernel resolves them against mount's working directory, our root.
    await run("mount", ["-t", "overlay", "overlay", "-o", opts, where], this.root);
  }

  /** Unmounts; `lazy` detaches even while something still uses the mount (it goes when they let go). */
  async unmount(target: string, options: { lazy?: boolean } = {}): Promise<void> {
    await run("umount", [...(options.lazy ? ["-l"] : []), path.resolve(target)], this.root);
  }

  /**
   * Deletes a snapshot. Refused while another snapshot is built on it; the
   * caller must have unmounted it. No-op if it doesn't exist.
   */
  async remove(chainId: string): Promise<void> {
    const dir = this.dir(chainId);
    if (!this.has(chainId)) return;
    for (const other of await this.list()) {
      if ((await this.parent(other)) === chainId) {
        throw new SnapshotError("IN_USE", `snapshot ${chainId} is the parent of snapshot ${other}`);
      }
    }
    const short = await readFile(path.join(dir, "link"), "utf8").catch(orNull);
    // Renamed away first, so it disappears at once and a crash mid-delete leaves only tmp-* garbage.
    const doomed = path.join(this.root, `tmp-${randomBytes(6).toString("hex")}`);
    await rename(dir, doomed);
    if (short) await rm(path.join(this.links, short), { force: true });
    await rm(doomed, { recursive: true, force: true });
  }

  private async build(chainId: string, parentChainId: string | null, fill: (diffDir: string) => Promise<void>): Promise<void> {
    if (parentChainId !== null && !this.has(parentChainId) && !this.inflight.has(parentChainId)) {
      throw new SnapshotError("NOT_FOUND", `parent snapshot ${parentChainId} does not exist`);
    }
    await mkdir(this.links, { recursive: true, mode: 0o700 });
    const scratch = await mkdtemp(path.join(this.root, "tmp-"));
    let short: string | null = null;
    try {
      const diff = path.join(scratch, "diff");
      await mkdir(diff, { mode: 0o755 });
      // A layer's files don't depend on its parent's, so layers unpack in
      // parallel; only publishing waits for the parent to exist.
      await fill(diff);
      let lower: string[] = [];
      if (parentChainId !== null) {
        await this.inflight.get(parentChainId)?.catch(() => undefined);
        if (!this.has(parentChainId)) throw new SnapshotError("NOT_FOUND", `parent snapshot ${parentChainId} does not exist`);
        lower = await this.lowerDirs(parentChainId);
      }

      short = await this.newShortLink(chainId);
      await writeFile(path.join(scratch, "link"), short);
      if (parentChainId !== null) {
        await writeFile(path.join(scratch, "lower"), lower.join(":"));
        await writeFile(path.join(scratch, "parent"), parentChainId);
      }
      // One syncfs per layer (coreutils `sync -f`): Node can't call it, and fsyncing every file would cost far more.
      if (this.durable) await run("sync", ["-f", scratch], this.root, "IO");
      try {
        await rename(scratch, this.dir(chainId));
      } catch (err) {
        // Another process published it first: theirs is as good as ours.
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === "ENOTEMPTY" || code === "EEXIST") && this.has(chainId)) {
          await rm(path.join(this.links, short), { force: true });
          return;
        }
        throw err;
      }
      short = null;
      await syncDir(this.root);
    } catch (err) {
      if (short) await rm(path.join(this.links, short), { force: true });
      throw err;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Creates l/<short> -> ../<hex>/diff under a fresh random short id. */
  private async newShortLink(chainId: string): Promise<string> {
    for (;;) {
      const short = shortId();
      try {
        await symlink(`../${hexOf(chainId)}/diff`, path.join(this.links, short));
        return short;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
  }

  private dir(chainId: string): string {
    return path.join(this.root, hexOf(chainId));
  }
}

function hexOf(chainId: string): string {
  const match = CHAIN_ID.exec(chainId);
  if (!match) throw new SnapshotError("INVALID", `invalid ChainID "${chainId}" (expected sha256:<64 hex>)`);
  return match[1]!;
}

/** 26 random characters from [A-Z0-9], like Docker's overlay2 link ids. */
export function shortId(): string {
  let out = "";
  while (out.length < SHORT_ID_LENGTH) {
    for (const byte of randomBytes(SHORT_ID_LENGTH)) {
      // 252 = 7 * 36: rejecting the rest keeps every character equally likely.
      if (byte < 252 && out.length < SHORT_ID_LENGTH) out += SHORT_ID_ALPHABET[byte % 36];
    }
  }
  return out;
}

function run(command: string, args: string[], cwd: string, code: SnapshotErrorCode = "MOUNT_FAILED"): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: "utf8" }, (err, _stdout, stderr) => {
      if (err) reject(new SnapshotError(code, `${command} ${args.join(" ")}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve();
    });
  });
}

function orNull(err: NodeJS.ErrnoException): null {
  if (err.code === "ENOENT") return null;
  throw err;
}

function orEmpty(err: NodeJS.ErrnoException): string[] {
  if (err.code === "ENOENT") return [];
  throw err;
}
