import type { Readable } from "node:stream";
import { applyLayer } from "../snapshots/apply-layer";
import { openLayerStream } from "../snapshots/decompress";
import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import type { ContentStore } from "./content-store";
import { ImageError } from "./errors";
import type { LayerRecord } from "./image-records";

/** Unpacks a (compressed) layer stream into `dir`, checking its diff ID. */
export async function applyLayerChecked(stream: Readable, layer: LayerRecord, dir: string): Promise<void> {
  const { diffId } = await applyLayer(openLayerStream(stream, layer.mediaType), dir);
  if (diffId !== layer.diffId) {
    throw new ImageError("DIGEST_MISMATCH", `layer ${layer.digest} unpacks to ${diffId}, but the image config says ${layer.diffId}`);
  }
}

/**
 * Unpacks one stored layer blob into its snapshot (keyed by ChainID), checking
 * the uncompressed digest against the image config's diff ID.
 */
export async function unpackLayer(
  content: ContentStore,
  snapshots: OverlaySnapshotter,
  layer: LayerRecord,
  parentChainId: string | null,
  onBytes?: (read: number) => void,
): Promise<void> {
  if (snapshots.has(layer.chainId)) return;
  await snapshots.create(layer.chainId, parentChainId, (dir: string) => unpackStoredInto(content, layer, dir, onBytes));
}

/** Unpacks the stored blob of `layer` into `dir` (a snapshot's fill), reporting compressed bytes read. */
export async function unpackStoredInto(content: ContentStore, layer: LayerRecord, dir: string, onBytes?: (read: number) => void): Promise<void> {
  let read = 0;
  const source = content.readStream(layer.digest);
  if (onBytes) source.on("data", (chunk: Buffer) => onBytes((read += chunk.length)));
  await applyLayerChecked(source, layer, dir);
}
