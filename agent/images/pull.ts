import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import type { ContentStore } from "./content-store";
import { shortId } from "./digest";
import { ImageError } from "./errors";
import type { ImageRecord, ImageRecords, LayerRecord } from "./image-records";
import { imageConfigSchema, indexSchema, isIndexType, isManifestType, manifestSchema, MediaType } from "./media-types";
import { hostPlatform, selectPlatform, type Platform } from "./platform";
import type { ProgressSink } from "./progress";
import { limiter } from "./limit";
import { pulledFrom } from "../../lib/image-provenance";
import { layerRecords, recordImage } from "./record-image";
import { familiarName, formatReference, repositoryName, type ImageReference } from "../../lib/image-reference";
import { mkdir, rm } from "node:fs/promises";
import type { RegistryClient, Repo } from "./registry-client";
import { pipeline } from "node:stream";
import { rechunk } from "./rechunk";
import { tee } from "./tee";
import { applyLayerChecked, unpackStoredInto } from "./unpack";

export interface PullDeps {
  content: ContentStore;
  snapshots: OverlaySnapshotter;
  records: ImageRecords;
  registry: RegistryClient;
}

const DOWNLOAD_CONCURRENCY = 3;

function parseJson<T>(bytes: Buffer, what: string, schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false; error: { message: string } } }): T {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ImageError("REGISTRY_ERROR", `${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ImageError("REGISTRY_ERROR", `${what} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

function declaredType(bytes: Buffer, what: string): string | undefined {
  try {
    return (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType;
  } catch {
    throw new ImageError("REGISTRY_ERROR", `${what} is not valid JSON`);
  }
}

/** Resolves a reference to one image manifest (choosing the platform from an index). */
async function resolveManifest(deps: PullDeps, repo: Repo, ref: ImageReference, platform: Platform) {
  let fetched = await deps.registry.getManifest(repo, ref.digest ?? ref.tag!);
  let mediaType = fetched.mediaType;
  let parsedType = declaredType(fetched.bytes, "the manifest");
  if (isIndexType(mediaType) || isIndexType(parsedType)) {
    const index = parseJson(fetched.bytes, "image index", indexSchema);
    const chosen = selectPlatform(index.manifests, platform);
    fetched = await deps.registry.getManifest(repo, chosen.digest);
    mediaType = fetched.mediaType;
    parsedType = declaredType(fetched.bytes, "the platform's manifest");
  }
  if (!isManifestType(mediaType) && !isManifestType(parsedType)) {
    throw new ImageError("UNSUPPORTED", `unsupported manifest type "${mediaType || parsedType || "unknown"}" for ${formatReference(ref)}`);
  }
  const manifest = parseJson(fetched.bytes, "image manifest", manifestSchema);
  return { manifest, digest: fetched.digest, bytes: fetched.bytes, mediaType: isManifestType(mediaType) ? mediaType : (parsedType ?? MediaType.ociManifest) };
}

/** Config and other small blobs: straight into the content store. */
async function downloadBlob(deps: PullDeps, repo: Repo, digest: string, size: number, onBytes?: (n: number) => void) {
  if (deps.content.has(digest)) return;
  const blob = await deps.registry.getBlob(repo, digest);
  if (blob.size !== null && blob.size !== size) {
    blob.stream.destroy();
    throw new ImageError("SIZE_MISMATCH", `blob ${digest} is ${blob.size} bytes on the registry but the manifest says ${size}`);
  }
  let networkError: unknown = null;
  blob.stream.once("error", (e) => (networkError ??= e));
  await deps.content.write(digest, blob.stream, { expectedSize: size, onProgress: onBytes }).catch((e: unknown) => {
    if (e instanceof ImageError || !networkError) throw e;
    throw interrupted(networkError, `the download of blob ${digest}`);
  });
}

/** Pulls an image: manifest, config and layers verified, layers unpacked into snapshots. */
export async function pullImage(deps: PullDeps, ref: ImageReference, options: { platform?: Platform; progress: ProgressSink }): Promise<ImageRecord> {
  const repo: Repo = { registry: ref.registry, repository: ref.repository };
  const progress = options.progress;
  progress({ status: `Pulling from ${familiarName({ ...ref, tag: undefined, digest: undefined }).replace(/:latest$/, "")}`, id: ref.digest ?? ref.tag });

  const { manifest, digest: manifestDigest, bytes: manifestBytes, mediaType } = await resolveManifest(deps, repo, ref, options.platform ?? hostPlatform());
  await deps.content.putBuffer(manifestBytes);

  await downloadBlob(deps, repo, manifest.config.digest, manifest.config.size);
  const config = parseJson(await deps.content.read(manifest.config.digest), "image config", imageConfigSchema);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new ImageError("REGISTRY_ERROR", `image config lists ${config.rootfs.diff_ids.length} layers but the manifest has ${manifest.layers.length}`);
  }
  const layers = layerRecords(manifest, config);

  await fetchAndUnpack(deps, repo, layers, progress);

  const record = await recordImage(deps.records, {
    manifest,
    manifestDigest,
    manifestMediaType: mediaType,
    config,
    layers,
    tags: ref.tag ? [formatReference({ ...ref, digest: undefined })] : [],
    repoDigest: `${repositoryName(ref)}@${manifestDigest}`,
    // The registry served content whose digests match: it vouches for this image, whatever it is called later.
    provenance: (existing) => pulledFrom(existing, ref.registry),
  });
  progress({ status: `Digest: ${manifestDigest}` });
  return record;
}

/**
 * Each needed layer streams from the registry once: one copy into the content
 * store (digest and size verified), the other unpacked into its snapshot at the
 * same time. The snapshot is kept only if both succeed and the unpacked bytes
 * match the config's diff ID. Layers run in parallel (bounded).
 */
async function fetchAndUnpack(deps: PullDeps, repo: Repo, layers: LayerRecord[], progress: ProgressSink) {
  const needed = layers.map((l) => !(deps.snapshots.has(l.chainId) && deps.content.has(l.digest)));
  layers.forEach((l, i) => progress({ status: needed[i] ? "Pulling fs layer" : "Already exists", id: shortId(l.digest) }));
  const limit = limiter(DOWNLOAD_CONCURRENCY);
  const tasks = layers.map((layer, i) =>
    needed[i] ? limit(() => fetchLayer(deps, repo, layer, i === 0 ? null : layers[i - 1]!.chainId, progress), () => progress({ status: "Waiting", id: shortId(layer.digest) })) : null,
  );
  const results = await Promise.allSettled(tasks.filter((t) => t !== null));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

// Layer downloads in flight per content store, so one blob is fetched once even
// when an image lists it twice or two pulls need it under different parents.
const downloading = new WeakMap<ContentStore, Map<string, Promise<void>>>();

/** Downloaded bytes go through verification and unpacking in pieces of this size. */
const REGROUP_BYTES = 1 << 20;

/** A layer download cut off midway (connection reset, idle timeout) is retried this many times. */
const INTERRUPTED_RETRIES = 2;

/**
 * One layer: its snapshot's create is registered first (synchronously, so the
 * next layer in the chain sees it in progress). Its fill either downloads the
 * blob (streamed once into the content store and into the snapshot) or, when
 * the blob is already stored or another pull is fetching it, unpacks the stored blob.
 */
async function fetchLayer(deps: PullDeps, repo: Repo, layer: LayerRecord, parentChainId: string | null, progress: ProgressSink) {
  const id = shortId(layer.digest);
  let choose!: (mode: "store" | "download") => void;
  let cancel!: (e: unknown) => void;
  const mode = new Promise<"store" | "download">((resolve, reject) => {
    choose = resolve;
    cancel = reject;
  });
  mode.catch(() => {});
  let filled = false;
  // The downloaded blob's commit (fsync, rename), still running when the snapshot is filled: the
  // snapshot's own sync then overlaps it instead of waiting for it.
  let committed: Promise<void> = Promise.resolve();
  const created = deps.snapshots.create(layer.chainId, parentChainId, async (dir: string) => {
    filled = true;
    if ((await mode) === "download") {
      ({ committed } = await withRetries(() => downloadLayer(deps, repo, layer, dir, progress), dir));
      return;
    }
    await unpackStoredInto(deps.content, layer, dir, (current) => progress({ status: "Extracting", id, progressDetail: { current, total: layer.size } }));
  });
  created.catch(() => {});

  const inflight = downloading.get(deps.content) ?? new Map<string, Promise<void>>();
  downloading.set(deps.content, inflight);
  try {
    const earlier = inflight.get(layer.digest);
    if (earlier) await earlier.catch(() => {});
    if (deps.content.has(layer.digest)) {
      choose("store");
      await created;
    } else {
      let finished!: () => void;
      inflight.set(layer.digest, new Promise<void>((resolve) => (finished = resolve)));
      try {
        choose("download");
        await created;
        // The snapshot existed (or another pull made it): only the blob is missing.
        if (!filled && !deps.content.has(layer.digest)) ({ committed } = await withRetries(() => downloadLayer(deps, repo, layer, null, progress), null));
        await committed;
      } finally {
        inflight.delete(layer.digest);
        finished();
      }
    }
  } catch (e) {
    cancel(e);
    throw e;
  }
  progress({ status: "Pull complete", id });
}

async function withRetries<T>(task: () => Promise<T>, dir: string | null): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await task();
    } catch (e) {
      if (!(e instanceof ImageError && e.code === "UNREACHABLE") || attempt >= INTERRUPTED_RETRIES) throw e;
      // Start the layer afresh: what was unpacked so far is thrown away.
      if (dir) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { mode: 0o755 });
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/**
 * The error that explains a failed layer: a digest or size verdict first, then a
 * cut-off download (which unpacking only sees as a truncated stream), then unpacking's own.
 */
function preferredError(downloadError: unknown, unpackError: unknown, networkError: unknown, other: unknown): unknown {
  if (downloadError instanceof ImageError) return downloadError;
  if (networkError) return interrupted(networkError);
  if (unpackError && !(unpackError instanceof Error && /download stopped before the end/.test(unpackError.message))) return unpackError;
  const cause = downloadError ?? unpackError ?? other;
  if (cause instanceof ImageError) return cause;
  return interrupted(cause);
}

/** A download cut off by the network: UNREACHABLE, which the layer retries act on. */
function interrupted(cause: unknown, what = "the download"): ImageError {
  return new ImageError("UNREACHABLE", `${what} was interrupted: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/**
 * The blob streams once: into the content store (verified) and, given a directory, unpacked into it.
 * Returns once the blob is verified and unpacked, with `committed`, which settles when the blob is stored for good.
 */
async function downloadLayer(deps: PullDeps, repo: Repo, layer: LayerRecord, dir: string | null, progress: ProgressSink): Promise<{ committed: Promise<void> }> {
  const id = shortId(layer.digest);
  let blob: Awaited<ReturnType<RegistryClient["getBlob"]>> | null = null;
  let stored: Promise<void> = Promise.resolve();
  let unpacked: Promise<void> = Promise.resolve();
  let networkError: unknown = null;
  try {
    blob = await deps.registry.getBlob(repo, layer.digest);
    blob.stream.once("error", (e) => (networkError ??= e));
    if (blob.size !== null && blob.size !== layer.size) {
      throw new ImageError("SIZE_MISMATCH", `blob ${layer.digest} is ${blob.size} bytes on the registry but the manifest says ${layer.size}`);
    }
    // Progress counts bytes as they arrive, not as the regrouped pieces leave: a slow or stalled download
    // still shows how far it got.
    let received = 0;
    blob.stream.on("data", (chunk: Buffer) => progress({ status: "Downloading", id, progressDetail: { current: (received += chunk.length), total: layer.size } }));
    // pipeline: an error or early end on either side reaches the other.
    const [toStore, toSnapshot] = tee(pipeline(blob.stream, rechunk(REGROUP_BYTES), () => {}));
    let markVerified!: () => void;
    const verified = new Promise<void>((resolve) => (markVerified = resolve));
    stored = deps.content
      .write(layer.digest, toStore, {
        expectedSize: layer.size,
        onVerified: markVerified,
      })
      .then(() => {
        progress({ status: "Verifying Checksum", id });
        progress({ status: "Download complete", id });
      });
    stored.catch(() => toSnapshot.destroy());
    if (dir) {
      let read = 0;
      toSnapshot.on("data", (chunk: Buffer) => progress({ status: "Extracting", id, progressDetail: { current: (read += chunk.length), total: layer.size } }));
      unpacked = applyLayerChecked(toSnapshot, layer, dir);
      unpacked.catch(() => toStore.destroy());
    } else {
      toSnapshot.resume();
    }
    // Stored settles on its own when another write of this blob ran, or on a failure before verification.
    await Promise.all([Promise.race([verified, stored]), unpacked]);
    stored.catch(() => {});
    return { committed: stored };
  } catch (e) {
    blob?.stream.destroy();
    const downloadError = await stored.then(() => null, (err: unknown) => err);
    const unpackError = await unpacked.then(() => null, (err: unknown) => err);
    throw preferredError(downloadError, unpackError, networkError, e);
  }
}
