import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestHex, digestOf, newDigester, sha256 } from "./digest";
import { ImageError } from "./errors";

// Content-addressed blobs: root/blobs/sha256/<hex>. A write streams into
// root/ingest/ and is renamed into place only when its digest (and size, when
// known) match, so a half-written or wrong blob is never visible.

export interface WriteOptions {
  expectedSize?: number;
  onProgress?: (bytes: number) => void;
  /**
   * Called once every byte has arrived and matched the digest and size, before
   * the blob is made durable and visible (fsync, rename): a caller may go on
   * with work that needs the content verified but not yet committed.
   */
  onVerified?: () => void;
}

export class ContentStore {
  private readonly blobs: string;
  private readonly ingest: string;
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(readonly root: string) {
    this.blobs = path.join(root, "blobs", "sha256");
    this.ingest = path.join(root, "ingest");
  }

  async init(): Promise<void> {
    await mkdir(this.blobs, { recursive: true });
    // Leftovers of an interrupted write are never resumed: the next pull restarts them.
    await rm(this.ingest, { recursive: true, force: true });
    await mkdir(this.ingest, { recursive: true });
  }

  path(digest: string): string {
    return path.join(this.blobs, digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  async size(digest: string): Promise<number> {
    return (await stat(this.path(digest))).size;
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") throw new ImageError("NOT_FOUND", `blob ${digest} is not in the content store`);
      throw e;
    });
  }

  /** The blob, or bytes start..end (inclusive) of it. */
  readStream(digest: string, start?: number, end?: number): Readable {
    return createReadStream(this.path(digest), { start, end, highWaterMark: 1 << 20 });
  }

  async list(): Promise<string[]> {
    return (await readdir(this.blobs)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** Stores bytes whose digest is computed here. */
  async putBuffer(data: Buffer): Promise<string> {
    const digest = sha256(data);
    if (!this.has(digest)) await this.write(digest, Readable.from([data]), { expectedSize: data.length });
    return digest;
  }

  /** Stores a stream whose digest is computed here (a layer the builder made). Returns its digest and size. */
  async putStream(source: Readable): Promise<{ digest: string; size: number }> {
    const temp = path.join(this.ingest, `local.${randomBytes(8).toString("hex")}`);
    const hash = newDigester();
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, count, createWriteStream(temp, { flags: "wx" }));
      const digest = digestOf(hash);
      if (this.has(digest)) {
        await rm(temp, { force: true });
        return { digest, size };
      }
      const fd = await open(temp, "r");
      await fd.sync();
      await fd.close();
      await rename(temp, this.path(digest));
      return { digest, size };
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  /**
   * Streams `source` into the store, verifying digest and size as bytes pass.
   * Concurrent writes of one digest share the first (the others wait for it).
   */
  write(digest: string, source: Readable, options: WriteOptions = {}): Promise<void> {
    if (this.has(digest)) {
      source.destroy();
      return Promise.resolve();
    }
    const running = this.inflight.get(digest);
    if (running) {
      source.destroy();
      return running;
    }
    const task = this.writeOnce(digest, source, options).finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, task);
    return task;
  }

  private async writeOnce(digest: string, source: Readable, { expectedSize, onProgress, onVerified }: WriteOptions): Promise<void> {
    const temp = path.join(this.ingest, `${digestHex(digest)}.${randomBytes(6).toString("hex")}`);
    const hash = newDigester();
    let bytes = 0;
    const verify = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (expectedSize !== undefined && bytes > expectedSize) {
          done(new ImageError("SIZE_MISMATCH", `blob ${digest} is larger than the ${expectedSize} bytes its descriptor declares`));
          return;
        }
        hash.update(chunk);
        onProgress?.(bytes);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, verify, createWriteStream(temp, { flags: "wx" }));
      if (expectedSize !== undefined && bytes !== expectedSize) {
        throw new ImageError("SIZE_MISMATCH", `blob ${digest} has ${bytes} bytes, its descriptor declares ${expectedSize}`);
      }
      const actual = digestOf(hash);
      if (actual !== digest) {
        throw new ImageError("DIGEST_MISMATCH", `blob digest mismatch: expected ${digest}, got ${actual}`);
      }
      onVerified?.();
      const fd = await open(temp, "r");
      await fd.sync();
      await fd.close();
      await rename(temp, this.path(digest));
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }
}
