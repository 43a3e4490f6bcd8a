import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ImageService } from "../images/image-service";
import type { ImageRecord } from "../images/image-records";
import { writeFileAtomic } from "../state/atomic-write";

// The build cache: step key (parent image + instruction + content hash) → the
// image that step made. Entries whose image is gone are ignored (and dropped).

const MAX_ENTRIES = 10_000;

export class BuildCache {
  private readonly file: string;
  private entries = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.file = path.join(root, "build-cache.json");
  }

  async init(): Promise<void> {
    if (!existsSync(this.file)) return;
    try {
      this.entries = new Map(Object.entries(JSON.parse(await readFile(this.file, "utf8")) as Record<string, string>));
    } catch {
      this.entries = new Map();
    }
  }

  lookup(key: string, images: ImageService): ImageRecord | null {
    const id = this.entries.get(key);
    if (!id) return null;
    try {
      return images.resolve(id);
    } catch {
      this.entries.delete(key);
      return null;
    }
  }

  /** Forgets every step (docker builder prune); the images themselves stay until removed. */
  clear(): Promise<void> {
    this.entries.clear();
    const run = this.queue.then(() => writeFileAtomic(this.file, "{}", 0o600));
    this.queue = run.catch(() => undefined);
    return run;
  }

  store(key: string, imageId: string): Promise<void> {
    this.entries.set(key, imageId);
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const run = this.queue.then(() => writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.entries)), 0o600));
    this.queue = run.catch(() => undefined);
    return run;
  }
}
