import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { ImageProvenance } from "../../lib/image-provenance";
import { writeFileAtomic } from "../state/atomic-write";
import { digestHex } from "./digest";
import { ImageError } from "./errors";

// Image metadata on disk: one JSON file per image under root/images/, written
// atomically. Tags are derived from the records, so they can't disagree.

export interface LayerRecord {
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
  chainId: string;
}

export interface ImageRecord {
  /** Image ID = digest of the config blob. */
  id: string;
  manifestDigest: string;
  manifestMediaType: string;
  /** Full names, e.g. docker.io/library/busybox:latest. */
  repoTags: string[];
  /** e.g. docker.io/library/busybox@sha256:… */
  repoDigests: string[];
  layers: LayerRecord[];
  os: string;
  architecture: string;
  created: string | null;
  /** Compressed size of all layers, in bytes. */
  size: number;
  addedAt: string;
  /** Where the content came from (registries it was pulled from, or how it was made here); absent on records from before it was kept. */
  provenance?: ImageProvenance;
}

export class ImageRecords {
  private readonly dir: string;
  private readonly records = new Map<string, ImageRecord>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.dir = path.join(root, "images");
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      const record = JSON.parse(await readFile(path.join(this.dir, name), "utf8")) as ImageRecord;
      this.records.set(record.id, record);
    }
  }

  /** Runs metadata changes one at a time. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  all(): ImageRecord[] {
    return [...this.records.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.records.get(id);
  }

  byTag(name: string): ImageRecord | undefined {
    return this.all().find((r) => r.repoTags.includes(name));
  }

  byRepoDigest(name: string): ImageRecord | undefined {
    return this.all().find((r) => r.repoDigests.includes(name));
  }

  /** Finds by full id, a unique id prefix (≥ 4 hex), a full tag or a repo digest. */
  find(key: string): ImageRecord | undefined {
    const exact = this.byTag(key) ?? this.byRepoDigest(key);
    if (exact) return exact;
    const hex = key.replace(/^sha256:/, "");
    if (!/^[a-f0-9]{4,64}$/.test(hex)) return undefined;
    const matches = this.all().filter((r) => r.id.slice(7).startsWith(hex));
    if (matches.length > 1) throw new ImageError("CONFLICT", `image id prefix "${key}" is ambiguous`);
    return matches[0];
  }

  async save(record: ImageRecord): Promise<void> {
    this.records.set(record.id, record);
    await writeFileAtomic(path.join(this.dir, `${digestHex(record.id)}.json`), JSON.stringify(record, null, 2));
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
    await rm(path.join(this.dir, `${digestHex(id)}.json`), { force: true });
  }

  /** Moves a tag to `id`, taking it off whichever image had it. */
  async setTag(id: string, tag: string): Promise<void> {
    for (const other of this.all()) {
      if (other.id !== id && other.repoTags.includes(tag)) {
        await this.save({ ...other, repoTags: other.repoTags.filter((t) => t !== tag) });
      }
    }
    const record = this.records.get(id);
    if (!record) throw new ImageError("NOT_FOUND", `no such image: ${id}`);
    if (!record.repoTags.includes(tag)) await this.save({ ...record, repoTags: [...record.repoTags, tag] });
  }
}
