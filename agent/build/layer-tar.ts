import { execFile } from "node:child_process";
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pack, type Header } from "tar-stream";
import { AgentError } from "../errors";

// A directory as a layer tar. For a container's overlay upper dir (a RUN step,
// docker commit) the overlayfs markers become the tar forms: a 0:0 character
// device is a whiteout (`.wh.<name>`), a directory with
// trusted.overlay.opaque=y gets `.wh..wh..opq`. Hardlinks inside the tree stay
// hardlinks. Entries are sorted, so the same tree gives the same bytes.
// (Extended attributes other than the opaque marker are not carried yet.)

export interface LayerTarOptions {
  /** Translate overlayfs whiteouts and opaque directories (an upper dir). */
  overlay: boolean;
  /** Fixed mtime for every entry (seconds), for reproducible layers; default: each file's own. */
  mtime?: number;
  /**
   * Relative paths left out when they are empty (a 0-byte file or an empty
   * directory): the mount points runc creates (/etc/hosts, /proc, a volume's
   * target…), which are not the container's changes.
   */
  skipIfEmpty?: Set<string>;
}

/** Directories under `root` marked opaque (one getfattr for the whole tree). */
async function opaqueDirs(root: string): Promise<Set<string>> {
  const out = await new Promise<string>((resolve) =>
    execFile("getfattr", ["-R", "-P", "--absolute-names", "-m", "^trusted\\.overlay\\.opaque$", "-d", "--", root], { maxBuffer: 64 << 20 }, (_e, stdout) =>
      resolve(String(stdout ?? "")),
    ),
  );
  const dirs = new Set<string>();
  let current: string | null = null;
  for (const line of out.split("\n")) {
    if (line.startsWith("# file: ")) current = line.slice("# file: ".length);
    else if (current && /^trusted\.overlay\.opaque="y"/.test(line)) dirs.add(current);
  }
  return dirs;
}

/**
 * Opens the file lstat saw, not whatever a running container swapped in since:
 * no symlink following, no blocking on a FIFO, and the same inode.
 */
async function openSame(file: string, st: Stats): Promise<Readable> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const now = await handle.stat();
  if (now.ino !== st.ino || now.dev !== st.dev || !now.isFile() || now.size !== st.size) {
    await handle.close();
    throw new AgentError("CONFLICT", `${file} changed while the layer was being written; stop or pause the container and try again`);
  }
  return handle.createReadStream({ start: 0, end: st.size - 1 });
}

/** Streams the tar of `root` (its contents, not root itself). */
export function directoryToTar(root: string, options: LayerTarOptions): Readable {
  const tar = pack();
  void (async () => {
    const opaque = options.overlay ? await opaqueDirs(root) : new Set<string>();
    const seenInodes = new Map<string, string>();
    const add = (header: Partial<Header> & { name: string }, body?: Readable | Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (body === undefined || Buffer.isBuffer(body)) {
          tar.entry(header as Header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
          return;
        }
        const entry = tar.entry(header as Header, (err) => (err ? reject(err) : resolve()));
        body.on("error", reject);
        body.pipe(entry);
      });
    const walk = async (dir: string, rel: string): Promise<void> => {
      const names = (await readdir(dir)).sort();
      for (const name of names) {
        const full = path.join(dir, name);
        const relName = rel ? `${rel}/${name}` : name;
        const st = await lstat(full);
        if (options.skipIfEmpty?.has(relName) && ((st.isFile() && st.size === 0) || (st.isDirectory() && (await readdir(full)).length === 0))) continue;
        const mtime = new Date((options.mtime ?? Math.floor(st.mtimeMs / 1000)) * 1000);
        const base = { name: relName, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime };
        if (st.isCharacterDevice() && st.rdev === 0 && options.overlay) {
          await add({ ...base, name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, type: "file", size: 0, mode: 0o644 });
        } else if (st.isDirectory()) {
          await add({ ...base, name: `${relName}/`, type: "directory" });
          if (opaque.has(full)) await add({ ...base, name: `${relName}/.wh..wh..opq`, type: "file", size: 0, mode: 0o644 });
          await walk(full, relName);
        } else if (st.isSymbolicLink()) {
          await add({ ...base, type: "symlink", linkname: await readlink(full) });
        } else if (st.isFile()) {
          const key = `${st.dev}:${st.ino}`;
          const first = st.nlink > 1 ? seenInodes.get(key) : undefined;
          if (first) {
            await add({ ...base, type: "link", linkname: first });
          } else {
            if (st.nlink > 1) seenInodes.set(key, relName);
            await add({ ...base, type: "file", size: st.size }, st.size ? await openSame(full, st) : undefined);
          }
        } else if (st.isCharacterDevice() || st.isBlockDevice()) {
          const rdev = Number(st.rdev);
          await add({ ...base, type: st.isCharacterDevice() ? "character-device" : "block-device", devmajor: (rdev >> 8) & 0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) });
        } else if (st.isFIFO()) {
          await add({ ...base, type: "fifo" });
        }
        // Sockets are not layer content.
      }
    };
    await walk(root, "");
    tar.finalize();
  })().catch((e: unknown) => tar.destroy(e instanceof Error ? e : new Error(String(e))));
  return tar as unknown as Readable;
}
