import { chainIds } from "../snapshots/chain-id";
import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import type { ContentStore } from "./content-store";
import { shortId } from "./digest";
import { ImageError } from "./errors";
import type { ImageRecord, ImageRecords, LayerRecord } from "./image-records";
import { imageConfigSchema, indexSchema, isIndexType, isManifestType, manifestSchema, MediaType } from "./media-types";
import { hostPlatform, selectPlatform, type Platform } from "./platform";
import type { ProgressSink } from "./progress";
import { limiter } from "./limit";
import { familiarName, formatReference, repositoryName, type ImageReference } from "./reference";
import type { Readable } from "node:stream";
import type { RegistryClient, Repo } from "./registry-client";
import { tee } from "./tee";
import { applyLayerChecked, unpackLayer } from "./unpack";

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
  const chains = chainIds(config.rootfs.diff_ids);
  const layers: LayerRecord[] = manifest.layers.map((l, i) => ({
    digest: l.digest,
    size: l.size,
    mediaType: l.mediaType,
    diffId: config.rootfs.diff_ids[i]!,
    chainId: chains[i]!,
  }));

  await fetchAndUnpack(deps, repo, layers, progress);

  const tag = ref.tag ? formatReference({ ...ref, digest: undefined }) : null;
  const repoDigest = `${repositoryName(ref)}@${manifestDigest}`;
  const record = await deps.records.exclusive(async () => {
    const existing = deps.records.get(manifest.config.digest);
    const next: ImageRecord = {
      id: manifest.config.digest,
      manifestDigest,
      manifestMediaType: mediaType,
      repoTags: existing?.repoTags ?? [],
      repoDigests: [...new Set([...(existing?.repoDigests ?? []), repoDigest])],
      layers,
      os: config.os ?? "linux",
      architecture: config.architecture ?? "unknown",
      created: config.created ?? null,
      size: layers.reduce((n, l) => n + l.size, 0),
      addedAt: existing?.addedAt ?? new Date().toISOString(),
    };
    await deps.records.save(next);
    if (tag) await deps.records.setTag(next.id, tag);
    return deps.records.get(next.id)!;
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

async function fetchLayer(deps: PullDeps, repo: Repo, layer: LayerRecord, parentChainId: string | null, progress: ProgressSink) {
  const id = shortId(layer.digest);
  const onExtract = (current: number) => progress({ status: "Extracting", id, progressDetail: { current, total: layer.size } });
  if (deps.content.has(layer.digest)) {
    await unpackLayer(deps.content, deps.snapshots, layer, parentChainId, onExtract);
    progress({ status: "Pull complete", id });
    return;
  }
  // The snapshot's create starts now, so layers later in the chain see it in
  // progress; its fill waits for the download stream.
  let provide!: (stream: Readable) => void;
  let cancel!: (e: unknown) => void;
  const streamReady = new Promise<Readable>((resolve, reject) => {
    provide = resolve;
    cancel = reject;
  });
  streamReady.catch(() => {});
  let stored: Promise<void> = Promise.resolve();
  const created = deps.snapshots.create(layer.chainId, parentChainId, async (dir: string) => {
    const toSnapshot = await streamReady;
    let read = 0;
    toSnapshot.on("data", (chunk: Buffer) => onExtract((read += chunk.length)));
    const unpacked = applyLayerChecked(toSnapshot, layer, dir);
    // Kept only when the download verified too.
    await Promise.all([unpacked, stored]);
  });
  created.catch(() => {});
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
    provide(toSnapshot);
    // When the snapshot already existed, nobody reads this side: drain it.
    created.then(() => toSnapshot.resume(), () => toSnapshot.destroy());
    await Promise.all([created, stored]);
  } catch (e) {
    cancel(e);
    blob?.stream.destroy();
    await created.catch(() => {});
    // The download's verdict (digest, size) explains more than a broken pipe on the unpacking side.
    const downloadError = await stored.then(() => null, (err: unknown) => err);
    throw downloadError ?? e;
  }
  progress({ status: "Pull complete", id });
}
