import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import type { ContentStore } from "./content-store";
import { detectCompression } from "../snapshots/decompress";
import { digestHex, digestOf, newDigester } from "./digest";
import { ImageError } from "./errors";
import type { ImageRecord, ImageRecords } from "./image-records";
import { imageConfigSchema, indexSchema, isIndexType, manifestSchema, MediaType, type ImageManifest } from "./media-types";
import { hostPlatform, selectPlatform } from "./platform";
import { layerRecords, recordImage } from "./record-image";
import { familiarName, formatReference, parseReference } from "../../lib/image-reference";
import { unpackLayer } from "./unpack";

// `docker save` / `docker load`. Save writes the combined layout Docker 25+
// writes: an OCI image layout (oci-layout, index.json, blobs/sha256/…) plus the
// classic manifest.json, so both `docker load` and skopeo (docker-archive: and
// oci-archive:) read it. Load accepts classic docker-save tarballs and OCI-layout tarballs.

export interface ArchiveDeps {
  root: string;
  content: ContentStore;
  snapshots: OverlaySnapshotter;
  records: ImageRecords;
}

export async function saveImages(deps: ArchiveDeps, images: { record: ImageRecord; tags: string[] }[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  // An output that goes away (EPIPE, a client disconnecting) must not become an unhandled rejection.
  let outputError: unknown = null;
  done.catch((e: unknown) => (outputError = e));
  const written = new Set<string>();
  const addBlob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const size = await deps.content.size(digest);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: `blobs/sha256/${digestHex(digest)}`, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve()));
      deps.content
        .readStream(digest)
        .on("error", (e) => {
          pack.destroy(e);
          reject(e);
        })
        .pipe(entry);
    });
  };
  const addFile = (name: string, data: string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve())));

  const addDir = (name: string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, type: "directory", mode: 0o755, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve())));
  await addDir("blobs/");
  await addDir("blobs/sha256/");
  const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] as unknown[] };
  for (const { record, tags } of images) {
    for (const layer of record.layers) await addBlob(layer.digest);
    await addBlob(record.id);
    await addBlob(record.manifestDigest);
    const manifestSize = await deps.content.size(record.manifestDigest);
    dockerManifest.push({
      Config: `blobs/sha256/${digestHex(record.id)}`,
      RepoTags: tags.map((t) => familiarName(parseReference(t))),
      Layers: record.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    });
    const names = tags.length ? tags : [null];
    for (const tag of names) {
      index.manifests.push({
        mediaType: record.manifestMediaType,
        digest: record.manifestDigest,
        size: manifestSize,
        ...(tag ? { annotations: { "io.containerd.image.name": tag, "org.opencontainers.image.ref.name": parseReference(tag).tag ?? "latest" } } : {}),
      });
    }
  }
  if (outputError) throw outputError;
  await addFile("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await addFile("index.json", JSON.stringify(index));
  await addFile("manifest.json", JSON.stringify(dockerManifest));
  pack.finalize();
  await done;
  if (outputError) throw outputError;
}

const MAX_ENTRIES = 100_000;

/** Unpacks an archive's regular files into `dir`, refusing anything but plain relative names. */
async function extractArchive(input: Readable, dir: string): Promise<Map<string, string>> {
  // Archive name → file on disk. Symlinks (docker save before 25 links a layer.tar
  // that repeats an earlier one) map to their target, resolved within the archive.
  const files = new Map<string, string>();
  const links = new Map<string, string>();
  const extract = tar.extract();
  const feeding = pipeline(input, extract);
  feeding.catch(() => {}); // surfaced below, after the entries loop
  const invalid = (why: string) => new ImageError("INVALID_ARCHIVE", `invalid image archive: ${why}`);
  let entries = 0;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      if (++entries > MAX_ENTRIES) throw invalid(`more than ${MAX_ENTRIES} entries`);
      const name = header.name.replace(/^\.\//, "").replace(/\/+$/, "");
      if (name.includes("\0") || path.isAbsolute(name) || (name && name.split("/").some((p) => p === ".." || p === ""))) {
        throw invalid(`entry "${header.name}" is not a plain relative path`);
      }
      // Directories are implied by files.
      if (!name || header.type === "directory") {
        entry.resume();
        continue;
      }
      if (header.type === "symlink") {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(name), header.linkname ?? ""));
        if (target.startsWith("../") || target === ".." || path.posix.isAbsolute(target)) {
          throw invalid(`symlink "${header.name}" points outside the archive`);
        }
        links.set(name, target);
        entry.resume();
        continue;
      }
      if (header.type !== "file") throw invalid(`entry "${header.name}" has type ${header.type}`);
      const target = path.join(dir, name);
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(entry, createWriteStream(target, { flags: "wx" }));
        files.set(name, target);
      } catch (e) {
        throw invalid(`entry "${header.name}" can't be unpacked (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    await feeding;
    for (const [name, target] of links) {
      // One level is what docker writes; a link to a link or to nothing is not used.
      const file = files.get(target);
      if (file) files.set(name, file);
    }
    return files;
  } catch (e) {
    extract.destroy();
    if (e instanceof ImageError) throw e;
    throw invalid((e as Error).message);
  }
}

async function readJson(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new ImageError("INVALID_ARCHIVE", `invalid image archive: ${what} is missing or not JSON`, { cause: e });
  }
}

function parseWith<T>(schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false; error: { message: string } } }, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ImageError("INVALID_ARCHIVE", `invalid image archive: ${what}: ${r.error.message}`);
  return r.data;
}

/** Imports a file into the content store; its name must be its digest when `expected` is given. */
async function importBlob(content: ContentStore, file: string, expected?: string, expectedSize?: number): Promise<{ digest: string; size: number }> {
  if (!existsSync(file)) throw new ImageError("INVALID_ARCHIVE", `invalid image archive: ${path.basename(file)} is missing`);
  const size = (await stat(file)).size;
  if (expectedSize !== undefined && expectedSize !== size) {
    throw new ImageError("INVALID_ARCHIVE", `invalid image archive: blob ${expected ?? path.basename(file)} has ${size} bytes, its descriptor says ${expectedSize}`);
  }
  if (expected) {
    await content.write(expected, createReadStream(file), { expectedSize: size });
    return { digest: expected, size };
  }
  const digest = await hashFile(file);
  await content.write(digest, createReadStream(file), { expectedSize: size });
  return { digest, size };
}

async function hashFile(file: string): Promise<string> {
  const h = newDigester();
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return digestOf(h);
}

const LAYER_TYPE = { gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd, none: MediaType.ociLayer } as const;

/** A docker-save layer's media type, from its first bytes (the same detection unpacking uses). */
async function sniffLayerType(file: string): Promise<string> {
  const fd = await open(file, "r");
  const head = Buffer.alloc(4);
  try {
    await fd.read(head, 0, 4, 0);
  } finally {
    await fd.close();
  }
  return LAYER_TYPE[detectCompression(head)];
}

interface Candidate {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestMediaType: string;
  tags: string[];
}

export interface LoadResult {
  images: { id: string; tags: string[] }[];
}

export async function loadImages(deps: ArchiveDeps, input: Readable, log: (line: string) => void = () => {}): Promise<LoadResult> {
  const dir = path.join(deps.root, "tmp", `load-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  try {
    const files = await extractArchive(input, dir);
    // Every path an archive's JSON names must be a file that archive itself contained.
    const member = (name: string) => {
      const file = files.get(name.replace(/^\.\//, ""));
      if (!file) throw new ImageError("INVALID_ARCHIVE", `invalid image archive: it names "${name}", which it doesn't contain`);
      return file;
    };
    const candidates = files.has("index.json") ? await fromOciLayout(deps, member) : await fromDockerArchive(deps, member);
    const result: LoadResult = { images: [] };
    for (const c of candidates) {
      const record = await registerImage(deps, c);
      result.images.push({ id: record.id, tags: c.tags });
      if (c.tags.length) for (const t of c.tags) log(`Loaded image: ${familiarName(parseReference(t))}`);
      else log(`Loaded image ID: ${record.id}`);
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fromOciLayout(deps: ArchiveDeps, member: (name: string) => string): Promise<Candidate[]> {
  const blob = (digest: string) => member(`blobs/sha256/${digestHex(digest)}`);
  const index = parseWith(indexSchema, await readJson(member("index.json"), "index.json"), "index.json");
  const byDigest = new Map<string, Candidate>();
  for (const entry of index.manifests) {
    let descriptor = entry;
    let { digest } = await importBlob(deps.content, blob(descriptor.digest), descriptor.digest, descriptor.size);
    let bytes = await deps.content.read(digest);
    if (isIndexType(descriptor.mediaType)) {
      const nested = parseWith(indexSchema, JSON.parse(bytes.toString("utf8")), "nested index");
      descriptor = selectPlatform(nested.manifests, hostPlatform());
      ({ digest } = await importBlob(deps.content, blob(descriptor.digest), descriptor.digest, descriptor.size));
      bytes = await deps.content.read(digest);
    }
    const manifest = parseWith(manifestSchema, JSON.parse(bytes.toString("utf8")), `manifest ${digest}`);
    const name = entry.annotations?.["io.containerd.image.name"] ?? entry.annotations?.["org.opencontainers.image.ref.name"];
    let tag: string | null = null;
    if (name) {
      try {
        const ref = parseReference(name);
        // A bare "latest" annotation names no repository: leave the image untagged.
        if (name.includes("/") || name.includes(":") || entry.annotations?.["io.containerd.image.name"]) tag = formatReference(ref);
      } catch {
        tag = null;
      }
    }
    const existing = byDigest.get(digest);
    if (existing) {
      if (tag) existing.tags.push(tag);
      continue;
    }
    await importBlob(deps.content, blob(manifest.config.digest), manifest.config.digest, manifest.config.size);
    for (const layer of manifest.layers) await importBlob(deps.content, blob(layer.digest), layer.digest, layer.size);
    byDigest.set(digest, { manifest, manifestBytes: bytes, manifestMediaType: descriptor.mediaType, tags: tag ? [tag] : [] });
  }
  return [...byDigest.values()];
}

async function fromDockerArchive(deps: ArchiveDeps, member: (name: string) => string): Promise<Candidate[]> {
  const entries = (await readJson(member("manifest.json"), "manifest.json")) as { Config?: string; RepoTags?: string[] | null; Layers?: string[] }[];
  if (!Array.isArray(entries) || entries.length === 0) throw new ImageError("INVALID_ARCHIVE", "invalid image archive: manifest.json lists no images");
  const candidates: Candidate[] = [];
  for (const e of entries) {
    if (typeof e.Config !== "string" || !Array.isArray(e.Layers)) throw new ImageError("INVALID_ARCHIVE", "invalid image archive: a manifest.json entry lacks Config or Layers");
    const config = await importBlob(deps.content, member(e.Config));
    const layers = [];
    for (const l of e.Layers) {
      const file = member(l);
      const mediaType = await sniffLayerType(file);
      const stored = await importBlob(deps.content, file);
      layers.push({ mediaType, digest: stored.digest, size: stored.size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
      layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const tags = (e.RepoTags ?? []).map((t) => formatReference(parseReference(t)));
    candidates.push({ manifest, manifestBytes, manifestMediaType: MediaType.ociManifest, tags });
  }
  return candidates;
}

async function registerImage(deps: ArchiveDeps, c: Candidate): Promise<ImageRecord> {
  const manifestDigest = await deps.content.putBuffer(c.manifestBytes);
  const configBytes = await deps.content.read(c.manifest.config.digest);
  let config;
  try {
    config = parseWith(imageConfigSchema, JSON.parse(configBytes.toString("utf8")), "image config");
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError("INVALID_ARCHIVE", "invalid image archive: the image config is not JSON");
  }
  if (config.rootfs.diff_ids.length !== c.manifest.layers.length) {
    throw new ImageError("INVALID_ARCHIVE", `invalid image archive: config lists ${config.rootfs.diff_ids.length} layers, manifest ${c.manifest.layers.length}`);
  }
  const layers = layerRecords(c.manifest, config);
  for (let i = 0; i < layers.length; i++) await unpackLayer(deps.content, deps.snapshots, layers[i]!, i ? layers[i - 1]!.chainId : null);
  // An archive's names prove nothing about where its content came from; an image already pulled keeps its registries.
  return recordImage(deps.records, { manifest: c.manifest, manifestDigest, manifestMediaType: c.manifestMediaType, config, layers, tags: c.tags, provenance: (existing) => existing ?? { registries: [], made: "load" } });
}

