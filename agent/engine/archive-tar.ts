import { constants, type Stats } from "node:fs";
import { open, readdir, readlink } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pack, type Header, type Pack } from "tar-stream";
import { type ContainerView, closeNode, fdPath, type Node } from "./archive-view";

// A tree of a container's view as a tar stream, the way dockerd's archiver
// writes one for docker cp and docker export: directories, files (hardlinks
// within the tree stay hardlinks), symlinks, devices and FIFOs with their
// owners, modes and mtimes (whole seconds); sockets are left out, as dockerd
// leaves them out. Every object is reached through the view's descriptors, so
// a container changing its files meanwhile can't make us read the host's.
// (Extended attributes are not carried, as in the agent's other tars.)

export interface TreeTarOptions {
  /**
   * The name of the start's own entry: a directory's children are named under
   * it ("srv" → "srv/", "srv/a"; "/" → "/", "/bin"; "." → "./", "./a"). Null:
   * no entry for the start itself, its children named from it ("bin",
   * "etc/hosts"), as docker export names them.
   */
  rootName: string | null;
}

/** A file's bytes: what it held when opened, no more; zeros if it shrank meanwhile (the header's size is a promise). */
async function* fileBytes(node: Node, size: number): AsyncIterable<Buffer> {
  // Reopening the O_PATH descriptor opens exactly the object it holds.
  const handle = await open(fdPath(node.handle), constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, 256 * 1024));
      const { bytesRead } = await handle.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) {
        for (; left > 0; left -= Math.min(left, 256 * 1024)) yield Buffer.alloc(Math.min(left, 256 * 1024));
        return;
      }
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Linux major/minor of a device number, as glibc's gnu_dev_major/minor split it. */
function deviceNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

class TreeWriter {
  private readonly links = new Map<string, string>();
  private closed = false;
  private readonly whenClosed: Promise<void>;
  /** Rejects once the reader has gone away. */
  private readonly gone: Promise<never>;

  constructor(
    private readonly view: ContainerView,
    private readonly tar: Pack,
  ) {
    this.whenClosed = new Promise((resolve) => tar.once("close", () => resolve()));
    void this.whenClosed.then(() => (this.closed = true));
    this.gone = this.whenClosed.then(() => Promise.reject(new Error("the archive was closed by its reader")));
    this.gone.catch(() => {});
  }

  /** Writes `node` (named `name`, or only its children when name is null); `parent` holds it, for reading a symlink. */
  async write(node: Node, parent: Node | null, name: string | null, st: Stats): Promise<void> {
    if (this.closed) throw new Error("the archive was closed by its reader");
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    if (st.isDirectory()) {
      if (name !== null) await this.add({ ...base, name: name === "/" || name.endsWith("/") ? name : `${name}/`, type: "directory" });
      for (const child of (await readdir(fdPath(node.handle))).sort()) {
        const childNode = await this.view.child(node, child);
        if (!childNode) continue; // gone meanwhile
        try {
          await this.write(childNode, node, childName(name, child), await childNode.handle.stat());
        } finally {
          await closeNode(childNode);
        }
      }
      return;
    }
    if (name === null) return;
    if (st.isSymbolicLink()) {
      if (!parent) return;
      return this.add({ ...base, name, type: "symlink", linkname: await readlink(`${fdPath(parent.handle)}/${node.path.split("/").at(-1)}`) });
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.links.get(key) : undefined;
      if (first !== undefined) return this.add({ ...base, name, type: "link", linkname: first });
      if (st.nlink > 1) this.links.set(key, name);
      return this.add({ ...base, name, type: "file", size: st.size }, st.size > 0 ? fileBytes(node, st.size) : undefined);
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      return this.add({ ...base, name, type: st.isCharacterDevice() ? "character-device" : "block-device", ...deviceNumbers(Number(st.rdev)) });
    }
    if (st.isFIFO()) return this.add({ ...base, name, type: "fifo" });
    // Sockets: dockerd skips them too.
  }

  /** One entry; rejects if the reader went away (so the walk stops and its lock is let go). */
  private add(header: Partial<Header> & { name: string }, body?: AsyncIterable<Buffer>): Promise<void> {
    const written = new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      // Without a body (an empty file, or not a file): tar-stream ends the entry itself when given an empty buffer.
      const entry = body ? this.tar.entry(header as Header, done) : this.tar.entry(header as Header, Buffer.alloc(0), done);
      // A reader going away destroys the entry too: that is reported through `closed`, not as an unhandled error.
      entry.on("error", reject);
      if (!body) return;
      void (async () => {
        for await (const chunk of body) {
          if (this.closed) return;
          if (!entry.write(chunk)) await new Promise<void>((r) => (entry.once("drain", () => r()), entry.once("close", () => r())));
        }
        entry.end(undefined);
      })().catch((e: unknown) => entry.destroy(e instanceof Error ? e : new Error(String(e))));
    });
    return Promise.race([written, this.gone]);
  }
}

function childName(parent: string | null, child: string): string {
  if (parent === null) return child;
  if (parent === "/") return `/${child}`;
  return `${parent.replace(/\/$/, "")}/${child}`;
}

/**
 * Streams the tar of `node` (see TreeTarOptions). `done` settles when the
 * walk ends: finished, failed, or stopped because the reader went away.
 */
export function treeToTar(view: ContainerView, start: { node: Node; parent: Node | null }, options: TreeTarOptions): { tar: Readable; done: Promise<void> } {
  const tar = pack();
  const writer = new TreeWriter(view, tar);
  const done = (async () => {
    try {
      await writer.write(start.node, start.parent, options.rootName, await start.node.handle.stat());
      tar.finalize();
    } catch (e) {
      tar.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  })();
  return { tar: tar as unknown as Readable, done };
}
