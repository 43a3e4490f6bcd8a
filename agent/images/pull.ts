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
import type { RegistryClient, Repo } from "./registry-client";
import { unpackLayer } from "./unpack";

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

/** Resolves a reference to one image manifest (choosing the platform from an index). */
async function resolveManifest(deps: PullDeps, repo: Repo, ref: ImageReference, platform: Platform) {
  let fetched = await deps.registry.getManifest(repo, ref.digest ?? ref.tag!);
  let mediaType = fetched.mediaType;
  let parsedType = (JSON.parse(fetched.bytes.toString("utf8")) as { mediaType?: string }).mediaType;
  if (isIndexType(mediaType) || isIndexType(parsedType)) {
    const index = parseJson(fetched.bytes, "image index", indexSchema);
    const chosen = selectPlatform(index.manifests, platform);
    fetched = await deps.registry.getManifest(repo, chosen.digest);
    mediaType = fetched.mediaType;
    parsedType = (JSON.parse(fetched.bytes.toString("utf8")) as { mediaType?: string }).mediaType;
  }
  if (!isManifestType(mediaType) && !isManifestType(parsedType)) {
    throw new ImageError("UNSUPPORTED", `unsupported manifest type "${mediaType || parsedType || "unknown"}" for ${formatReference(ref)}`);
  }
  const manifest = parseJson(fetched.bytes, "image manifest", manifestSchema);
  return { manifest, digest: fetched.digest, bytes: fetched.bytes, mediaType: isManifestType(mediaType) ? mediaType : (parsedType ?? MediaType.ociManifest) };
}

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

async function fetchAndUnpack(deps: PullDeps, repo: Repo, layers: LayerRecord[], progress: ProgressSink) {
  const needed = layers.map((l) => !(deps.snapshots.has(l.chainId) && deps.content.has(l.digest)));
  layers.forEach((l, i) => progress({ status: needed[i] ? "Pulling fs layer" : "Already exists", id: shortId(l.digest) }));

  // Downloads run in parallel (bounded); unpacking runs in layer order as each download lands.
  const limit = limiter(DOWNLOAD_CONCURRENCY);
  const downloads = layers.map((layer, i) => {
    if (!needed[i]) return Promise.resolve();
    const id = shortId(layer.digest);
    return limit(
      async () => {
        await downloadBlob(deps, repo, layer.digest, layer.size, (current) =>
          progress({ status: "Downloading", id, progressDetail: { current, total: layer.size } }),
        );
        progress({ status: "Verifying Checksum", id });
        progress({ status: "Download complete", id });
      },
      () => progress({ status: "Waiting", id }),
    );
  });
  // A failed download must not become an unhandled rejection while an earlier layer unpacks.
  for (const d of downloads) d.catch(() => {});

  try {
    for (let i = 0; i < layers.length; i++) {
      await downloads[i];
      const layer = layers[i]!;
      if (!needed[i]) continue;
      const id = shortId(layer.digest);
      await unpackLayer(deps.content, deps.snapshots, layer, i === 0 ? null : layers[i - 1]!.chainId, (current) =>
        progress({ status: "Extracting", id, progressDetail: { current, total: layer.size } }),
      );
      progress({ status: "Pull complete", id });
    }
  } finally {
    // Every started download settles before this returns or rethrows.
    await Promise.allSettled(downloads);
  }
}
