import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import type { ContentStore } from "./content-store";
import { shortId } from "./digest";
import { ImageError } from "./errors";
import type { ImageRecord, ImageRecords, LayerRecord } from "./image-records";
import { imageConfigSchema, indexSchema, isIndexType, isManifestType, manifestSchema, MediaType } from "./media-types";
import { hostPlatform, selectPlatform, type Platform } from "./platform";
import type { ProgressSink } from "./progress";
import { limiter } from "./limit";
import { layerRecords, recordImage } from "./record-image";
import { familiarName, formatReference, repositoryName, type ImageReference } from "./reference";
import type { Readable } from "node:stream";
import type { RegistryClient, Repo } from "./registry-client";
import { tee } from "./tee";
import { applyLayerChecked } from "./unpack";

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
  await deps.content.write(digest, blob.stream, { expectedSize: size, onProgress: onBytes });
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

/** Registry errors and digest/size verdicts explain a failure better than a broken pipe. */
function preferredError(downloadError: unknown, unpackError: unknown): unknown {
  if (downloadError instanceof ImageError) return downloadError;
  if (unpackError && !(unpackError instanceof Error && /download stopped before the end/.test(unpackError.message))) {
    return unpackError;
  }
  const cause = downloadError ?? unpackError;
  return new ImageError("UNREACHABLE", `the download was interrupted: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/**
 * One layer: its snapshot's create is registered first (synchronously, so the
 * next layer in the chain sees it in progress), and its fill unpacks whichever
 * source the layer gets: the live download (teed into the content store), or
 * the stored blob when it is already there or another pull is fetching it.
 */
async function fetchLayer(deps: PullDeps, repo: Repo, layer: LayerRecord, parentChainId: string | null, progress: ProgressSink) {
  const id = shortId(layer.digest);
  let provide!: (source: { stream: Readable; stored: Promise<void> }) => void;
  let cancel!: (e: unknown) => void;
  const sourceReady = new Promise<{ stream: Readable; stored: Promise<void> }>((resolve, reject) => {
    provide = resolve;
    cancel = reject;
  });
  sourceReady.catch(() => {});
  let filled = false;
  const created = deps.snapshots.create(layer.chainId, parentChainId, async (dir: string) => {
    filled = true;
    const { stream, stored } = await sourceReady;
    let read = 0;
    stream.on("data", (chunk: Buffer) => progress({ status: "Extracting", id, progressDetail: { current: (read += chunk.length), total: layer.size } }));
    // Kept only when the download verified too.
    await Promise.all([applyLayerChecked(stream, layer, dir), stored]);
  });
  created.catch(() => {});

  const inflight = downloading.get(deps.content) ?? new Map<string, Promise<void>>();
  downloading.set(deps.content, inflight);
  const fromStore = () => provide({ stream: deps.content.readStream(layer.digest), stored: Promise.resolve() });
  try {
    const earlier = inflight.get(layer.digest);
    if (earlier) await earlier.catch(() => {});
    if (deps.content.has(layer.digest)) {
      fromStore();
      await created;
    } else {
      let finished!: () => void;
      inflight.set(layer.digest, new Promise<void>((resolve) => (finished = resolve)));
      try {
        await downloadInto(deps, repo, layer, progress, created, () => filled, provide, cancel);
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

async function downloadInto(
  deps: PullDeps,
  repo: Repo,
  layer: LayerRecord,
  progress: ProgressSink,
  created: Promise<void>,
  filling: () => boolean,
  provide: (source: { stream: Readable; stored: Promise<void> }) => void,
  cancel: (e: unknown) => void,
) {
  const id = shortId(layer.digest);
  let stored: Promise<void> = Promise.resolve();
  let blob: Awaited<ReturnType<RegistryClient["getBlob"]>> | null = null;
  try {
    blob = await deps.registry.getBlob(repo, layer.digest);
    if (blob.size !== null && blob.size !== layer.size) {
      throw new ImageError("SIZE_MISMATCH", `blob ${layer.digest} is ${blob.size} bytes on the registry but the manifest says ${layer.size}`);
    }
    const [toStore, toSnapshot] = tee(blob.stream);
    stored = deps.content
      .write(layer.digest, toStore, {
        expectedSize: layer.size,
        onProgress: (current) => progress({ status: "Downloading", id, progressDetail: { current, total: layer.size } }),
      })
      .then(() => {
        progress({ status: "Verifying Checksum", id });
        progress({ status: "Download complete", id });
      });
    stored.catch(() => toSnapshot.destroy());
    provide({ stream: toSnapshot, stored });
    // When the snapshot already existed (no fill ran), nobody reads this side: drain it.
    created.then(() => !filling() && toSnapshot.resume(), () => toSnapshot.destroy());
    await Promise.all([created, stored]);
  } catch (e) {
    // A fill still waiting for its source must hear about the failure before we wait for it.
    cancel(e);
    blob?.stream.destroy();
    const unpackError = await created.then(() => null, (err: unknown) => err);
    const downloadError = await stored.then(() => null, (err: unknown) => err);
    throw preferredError(downloadError, unpackError ?? (downloadError ? null : e));
  }
}
