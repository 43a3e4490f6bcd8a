import type { Readable } from "node:stream";
import { madeFrom, type MadeHow } from "../../lib/image-provenance";
import { chainIds } from "../snapshots/chain-id";
import type { ImageServiceDeps } from "./image-service";
import type { ImageRecord, LayerRecord } from "./image-records";
import { MediaType, type ImageConfig } from "./media-types";
import { recordImage } from "./record-image";
import { unpackLayer } from "./unpack";

// Images made here rather than pulled: a build step or docker commit. The new
// layer is stored uncompressed (its digest is its diff ID, hashed once; it is
// compressed, like Docker's, only if ever pushed compressed), unpacked into its
// snapshot, and the config and an OCI manifest are written like any other.

export interface HistoryEntry {
  created_by: string;
  comment?: string;
  empty_layer?: boolean;
  author?: string;
}

export async function createLocalImage(
  deps: ImageServiceDeps,
  input: {
    parent: ImageRecord | null;
    config: Record<string, unknown>;
    layer: Readable | null;
    history: HistoryEntry;
    parentHistory?: unknown[];
    /** How it is made, for its provenance (the parent and `sources` are what its content came from). */
    made: MadeHow;
    /** Other images content was copied from (COPY --from). */
    sources?: ImageRecord[];
  },
): Promise<ImageRecord> {
  const layers: LayerRecord[] = [...(input.parent?.layers ?? [])];
  const created = new Date().toISOString();
  if (input.layer) {
    const { digest, size } = await deps.content.putStream(input.layer);
    const diffIds = [...layers.map((l) => l.diffId), digest];
    const chainId = chainIds(diffIds).at(-1)!;
    const record: LayerRecord = { digest, size, mediaType: MediaType.ociLayer, diffId: digest, chainId };
    await unpackLayer(deps.content, deps.snapshots, record, layers.at(-1)?.chainId ?? null);
    layers.push(record);
  }
  const config = {
    ...input.config,
    created,
    os: (input.config.os as string | undefined) ?? "linux",
    architecture: (input.config.architecture as string | undefined) ?? (process.arch === "x64" ? "amd64" : process.arch),
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: [...(input.parentHistory ?? []), { created, ...input.history, ...(input.layer ? {} : { empty_layer: true }) }],
  } as unknown as ImageConfig;
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await deps.content.putBuffer(configBytes);
  const manifest = {
    schemaVersion: 2 as const,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await deps.content.putBuffer(manifestBytes);
  const inputs = [...(input.parent ? [input.parent] : []), ...(input.sources ?? [])].map((r) => r.provenance);
  const provenance = madeFrom(input.made, inputs);
  return recordImage(deps.records, {
    manifest: manifest as never,
    manifestDigest,
    manifestMediaType: MediaType.ociManifest,
    config,
    layers,
    tags: [],
    provenance: (existing) => (existing && existing.registries.length > 0 ? existing : provenance),
  });
}
