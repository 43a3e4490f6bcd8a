import { type ImageProvenance, looksLikeImageId, type MadeHow, UNKNOWN_PROVENANCE } from "../../lib/image-provenance";
import type { Readable, Writable } from "node:stream";
import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import { loadImages, saveImages, type LoadResult } from "./archive";
import type { ContentStore } from "./content-store";
import { shortId } from "./digest";
import { ImageError } from "./errors";
import type { ImageRecord, ImageRecords } from "./image-records";
import { imageConfigSchema, type ImageConfig } from "./media-types";
import type { Platform } from "./platform";
import { noProgress, type ProgressSink } from "./progress";
import { pullImage } from "./pull";
import { pushImage } from "./push";
import { createLocalImage, type HistoryEntry } from "./local-image";
import { familiarName, formatReference, parseReference } from "../../lib/image-reference";
import type { RegistryClient } from "./registry-client";
import { DistributionInspector, type DistributionInspect } from "./distribution";

// The image half of the engine, as the CLI and (next issue) the Docker API use it.

export interface ImageServiceDeps {
  root: string;
  content: ContentStore;
  snapshots: OverlaySnapshotter;
  records: ImageRecords;
  registry: RegistryClient;
  /** Containers using an image (set by the container engine); images in use can't be removed without force. */
  imageInUse?: (imageId: string) => string[];
}

export interface ImageSummary {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  created: string | null;
}

export interface ImageDetails extends ImageSummary {
  config: ImageConfig;
  os: string;
  architecture: string;
  layers: { digest: string; diffId: string; size: number; mediaType: string }[];
  provenance: ImageProvenance;
}

export type RemoveReport = ({ Untagged: string } | { Deleted: string })[];


export class ImageService {
  private readonly pulls = new Map<string, Promise<ImageRecord>>();
  /** Pulls and loads write content before their record exists; garbage collection waits for them. */
  private busy = 0;
  private gcDeferred = false;
  private inspector: DistributionInspector | undefined;

  constructor(private readonly deps: ImageServiceDeps) {}

  /** The snapshotter holding the images' layers (containers mount their root filesystems from it). */
  get snapshots(): OverlaySnapshotter {
    return this.deps.snapshots;
  }

  /** The container engine tells the image store which containers use an image. */
  setImageInUse(check: (imageId: string) => string[]): void {
    this.deps.imageInUse = check;
  }

  /** Pulls by reference; concurrent pulls of the same reference share one download. */
  async pull(reference: string, options: { platform?: Platform; progress?: ProgressSink } = {}): Promise<ImageRecord> {
    const ref = parseReference(reference);
    const key = `${formatReference(ref)} ${options.platform ? JSON.stringify(options.platform) : ""}`;
    const progress = options.progress ?? noProgress;
    let running = this.pulls.get(key);
    const joined = Boolean(running);
    if (!running) {
      running = this.whileBusy(() => pullImage(this.deps, ref, { platform: options.platform, progress })).finally(() => this.pulls.delete(key));
      this.pulls.set(key, running);
    }
    const record = await running;
    if (joined) progress({ status: `Digest: ${record.manifestDigest}` });
    progress({ status: `Status: Downloaded image for ${familiarName(ref)}` });
    return record;
  }

  list(): ImageSummary[] {
    return this.deps.records
      .all()
      .map(summary)
      .sort((a, b) => (b.created ?? "").localeCompare(a.created ?? ""));
  }

  /** Finds an image by id (or unique prefix), name[:tag] or name@digest. */
  resolve(key: string): ImageRecord {
    let record: ImageRecord | undefined;
    if (looksLikeImageId(key)) record = this.deps.records.find(key);
    if (!record) {
      let normalised: string;
      let parsed: ReturnType<typeof parseReference>;
      try {
        parsed = parseReference(key);
        normalised = formatReference(parsed);
      } catch (e) {
        if (looksLikeImageId(key)) throw new ImageError("NOT_FOUND", `no such image: ${key}`);
        throw e;
      }
      // repo:tag@sha256:… is the digest (Docker ignores the tag next to one): what a watcher's rollout runs.
      if (parsed.tag && parsed.digest) normalised = formatReference({ ...parsed, tag: undefined });
      record = this.deps.records.byTag(normalised) ?? this.deps.records.byRepoDigest(normalised);
    }
    if (!record) throw new ImageError("NOT_FOUND", `no such image: ${key}`);
    return record;
  }

  async inspect(key: string): Promise<ImageDetails> {
    const record = this.resolve(key);
    const config = imageConfigSchema.parse(JSON.parse((await this.deps.content.read(record.id)).toString("utf8")));
    return {
      ...summary(record),
      config,
      os: record.os,
      architecture: record.architecture,
      layers: record.layers.map((l) => ({ digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType })),
      provenance: record.provenance ?? UNKNOWN_PROVENANCE,
    };
  }

  async tag(source: string, target: string): Promise<void> {
    const record = this.resolve(source);
    const ref = parseReference(target);
    if (ref.digest) throw new ImageError("INVALID_REFERENCE", `can't tag with a digest: ${target}`);
    await this.deps.records.exclusive(() => this.deps.records.setTag(record.id, formatReference(ref)));
  }

  /**
   * Docker's rmi: removing one of several tags only untags; removing the last
   * tag (or by id) deletes the image, then every blob and snapshot nothing
   * else references.
   */
  async remove(key: string, options: { force?: boolean } = {}): Promise<RemoveReport> {
    return this.deps.records.exclusive(async () => {
      const record = this.resolve(key);
      const report: RemoveReport = [];
      let tagKey: string | null = null;
      try {
        const normalised = formatReference(parseReference(key));
        if (record.repoTags.includes(normalised)) tagKey = normalised;
      } catch {
        tagKey = null;
      }
      if (tagKey && record.repoTags.length > 1) {
        await this.deps.records.save({ ...record, repoTags: record.repoTags.filter((t) => t !== tagKey) });
        return [{ Untagged: familiarName(parseReference(tagKey)) }];
      }
      if (!tagKey && record.repoTags.length > 1 && !options.force) {
        throw new ImageError("CONFLICT", `image ${shortId(record.id)} is tagged in several repositories (${record.repoTags.map((t) => familiarName(parseReference(t))).join(", ")}); remove by name or use force`);
      }
      const users = this.deps.imageInUse?.(record.id) ?? [];
      if (users.length && !options.force) {
        // Docker's wording, which scripts match on.
        const what = tagKey ? `remove repository reference "${familiarName(parseReference(tagKey))}"` : `delete ${shortId(record.id)}`;
        throw new ImageError("CONFLICT", `conflict: unable to ${what} (must force) - container ${users.map((u) => u.slice(0, 12)).join(", ")} is using its referenced image ${shortId(record.id)}`);
      }
      for (const t of record.repoTags) report.push({ Untagged: familiarName(parseReference(t)) });
      for (const d of record.repoDigests) report.push({ Untagged: familiarName(parseReference(d)) });
      await this.deps.records.delete(record.id);
      report.push({ Deleted: record.id });
      if (this.busy > 0) this.gcDeferred = true;
      else await this.collectGarbage(report);
      return report;
    });
  }

  /** Deletes blobs and snapshots that no remaining image references. */
  private async collectGarbage(report: RemoveReport): Promise<void> {
    const remaining = this.deps.records.all();
    const blobs = new Set(remaining.flatMap((r) => [r.id, r.manifestDigest, ...r.layers.map((l) => l.digest)]));
    const chains = new Set(remaining.flatMap((r) => r.layers.map((l) => l.chainId)));
    for (const digest of await this.deps.content.list()) {
      if (!blobs.has(digest)) await this.deps.content.delete(digest);
    }
    // Children before parents: a snapshot is removable only once nothing builds on it.
    const snapshots = (await this.deps.snapshots.list()).filter((c: string) => !chains.has(c));
    for (let pass = 0; pass < snapshots.length + 1 && snapshots.length; pass++) {
      for (const chainId of [...snapshots]) {
        try {
          await this.deps.snapshots.remove(chainId);
          snapshots.splice(snapshots.indexOf(chainId), 1);
          report.push({ Deleted: chainId });
        } catch {
          // Still a parent of another unreferenced snapshot: removed on a later pass.
        }
      }
    }
  }

  async save(keys: string[], out: Writable): Promise<void> {
    if (!keys.length) throw new ImageError("INVALID_REFERENCE", "name at least one image to save");
    const images = keys.map((key) => {
      const record = this.resolve(key);
      let tags: string[] = [];
      try {
        const normalised = formatReference(parseReference(key));
        tags = record.repoTags.includes(normalised) ? [normalised] : [];
      } catch {
        tags = [];
      }
      // Saved by id: keep all its tags, as docker does.
      if (!tags.length && looksLikeImageId(key)) tags = record.repoTags;
      return { record, tags };
    });
    await saveImages(this.deps, images, out);
  }

  load(input: Readable, log?: (line: string) => void): Promise<LoadResult> {
    return this.whileBusy(() => loadImages(this.deps, input, log));
  }

  private async whileBusy<T>(task: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await task();
    } finally {
      if (--this.busy === 0 && this.gcDeferred) {
        this.gcDeferred = false;
        await this.deps.records.exclusive(() => this.collectGarbage([])).catch(() => {});
      }
    }
  }

  /** Records an image made here (a build step, docker commit): the parent's layers plus an optional new one. */
  async createImage(input: {
    parent: ImageRecord | null;
    config: Record<string, unknown>;
    layer: Readable | null;
    history: HistoryEntry;
    made: MadeHow;
    sources?: ImageRecord[];
  }): Promise<ImageRecord> {
    const parentHistory = input.parent ? ((await this.inspect(input.parent.id)).config.history ?? []) : [];
    return this.whileBusy(() => createLocalImage(this.deps, { ...input, parentHistory }));
  }

  /** GET /distribution/{name}/json: what a tag points at in its registry (a HEAD on the manifest), seen from this host. */
  distribution(reference: string): Promise<DistributionInspect> {
    this.inspector ??= new DistributionInspector(this.deps.registry);
    return this.inspector.inspect(parseReference(reference));
  }

  /** docker login: are the request's credentials good for `registry`? */
  async login(registry: string): Promise<void> {
    await this.deps.registry.login(registry);
  }

  /** The image's config JSON as stored. */
  async configOf(key: string): Promise<Record<string, unknown>> {
    const record = this.resolve(key);
    return JSON.parse((await this.deps.content.read(record.id)).toString("utf8")) as Record<string, unknown>;
  }

  async push(reference: string, options: { progress?: ProgressSink } = {}) {
    return pushImage(this.deps, parseReference(reference), options.progress ?? noProgress);
  }
}

function summary(r: ImageRecord): ImageSummary {
  return { id: r.id, repoTags: r.repoTags, repoDigests: r.repoDigests, size: r.size, created: r.created };
}
