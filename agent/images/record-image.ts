import type { ImageProvenance } from "../../lib/image-provenance";
import { chainIds } from "../snapshots/chain-id";
import type { ImageRecord, ImageRecords, LayerRecord } from "./image-records";
import type { ImageConfig, ImageManifest } from "./media-types";

/** The manifest's layers with their diff IDs and ChainIDs from the config (counts already checked). */
export function layerRecords(manifest: ImageManifest, config: ImageConfig): LayerRecord[] {
  const diffIds = config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  return manifest.layers.map((l, i) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: diffIds[i]!, chainId: chains[i]! }));
}

/**
 * Saves (or refreshes) the record of an image whose content is in place, then
 * moves `tags` to it. Pull and load both end here.
 */
export function recordImage(
  records: ImageRecords,
  image: {
    manifest: ImageManifest;
    manifestDigest: string;
    manifestMediaType: string;
    config: ImageConfig;
    layers: LayerRecord[];
    tags: string[];
    repoDigest?: string;
    /** The record's provenance from what it was before (undefined for a new image): pulls add their registry, made images keep a pulled one's. */
    provenance: (existing: ImageProvenance | undefined) => ImageProvenance;
  },
): Promise<ImageRecord> {
  return records.exclusive(async () => {
    const id = image.manifest.config.digest;
    const existing = records.get(id);
    await records.save({
      id,
      manifestDigest: image.manifestDigest,
      manifestMediaType: image.manifestMediaType,
      repoTags: existing?.repoTags ?? [],
      repoDigests: [...new Set([...(existing?.repoDigests ?? []), ...(image.repoDigest ? [image.repoDigest] : [])])],
      layers: image.layers,
      os: image.config.os ?? "linux",
      architecture: image.config.architecture ?? "unknown",
      created: image.config.created ?? null,
      size: image.layers.reduce((n, l) => n + l.size, 0),
      addedAt: existing?.addedAt ?? new Date().toISOString(),
      provenance: image.provenance(existing?.provenance),
    });
    for (const tag of image.tags) await records.setTag(id, tag);
    return records.get(id)!;
  });
}
