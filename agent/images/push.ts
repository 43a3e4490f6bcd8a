import type { ContentStore } from "./content-store";
import { shortId } from "./digest";
import { ImageError } from "./errors";
import type { ImageRecord, ImageRecords } from "./image-records";
import { limiter } from "./limit";
import type { ProgressSink } from "./progress";
import { formatReference, repositoryName, type ImageReference } from "../../lib/image-reference";
import type { RegistryClient, Repo } from "./registry-client";

export interface PushDeps {
  content: ContentStore;
  records: ImageRecords;
  registry: RegistryClient;
}

/**
 * Pushes a tagged image: each blob the registry lacks (HEAD first; a
 * cross-repository mount when the blob is known in another repository of the
 * same registry; else an upload), then the manifest under the tag.
 */
export async function pushImage(deps: PushDeps, ref: ImageReference, progress: ProgressSink): Promise<{ digest: string; size: number }> {
  if (!ref.tag || ref.digest) throw new ImageError("INVALID_REFERENCE", `push needs a tag, e.g. ${repositoryName(ref)}:latest`);
  const name = formatReference(ref);
  const record = deps.records.byTag(name);
  if (!record) throw new ImageError("NOT_FOUND", `no local image tagged ${name}; tag one first`);
  const repo: Repo = { registry: ref.registry, repository: ref.repository };
  progress({ status: `The push refers to repository [${repositoryName(ref)}]` });

  const mountFrom = otherRepositories(record, ref);
  const blobs = [...record.layers.map((l) => ({ digest: l.digest, size: l.size })), { digest: record.id, size: await deps.content.size(record.id) }];
  const limit = limiter(3);
  await Promise.all(
    blobs.map((blob) =>
      limit(async () => {
        const id = shortId(blob.digest);
        if (!deps.content.has(blob.digest)) throw new ImageError("NOT_FOUND", `blob ${blob.digest} of ${name} is missing locally; pull the image again`);
        progress({ status: "Preparing", id });
        if (await deps.registry.hasBlob(repo, blob.digest)) {
          progress({ status: "Layer already exists", id });
          return;
        }
        for (const from of mountFrom) {
          if (await deps.registry.mountBlob(repo, blob.digest, from)) {
            progress({ status: `Mounted from ${from}`, id });
            return;
          }
        }
        await deps.registry.uploadBlob(repo, blob.digest, blob.size, (start = 0, end) => {
          // Progress counts from where this request starts (a retry or the next chunk).
          let sent = start;
          const stream = deps.content.readStream(blob.digest, start, end);
          stream.on("data", (chunk: Buffer) => {
            sent += chunk.length;
            progress({ status: "Pushing", id, progressDetail: { current: sent, total: blob.size } });
          });
          return stream;
        });
        progress({ status: "Pushed", id });
      }),
    ),
  );

  const manifest = await deps.content.read(record.manifestDigest);
  const digest = await deps.registry.putManifest(repo, ref.tag, record.manifestMediaType, manifest);
  await deps.records.exclusive(async () => {
    const current = deps.records.get(record.id);
    const repoDigest = `${repositoryName(ref)}@${record.manifestDigest}`;
    if (current && !current.repoDigests.includes(repoDigest)) {
      await deps.records.save({ ...current, repoDigests: [...current.repoDigests, repoDigest] });
    }
  });
  progress({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
  return { digest, size: manifest.length };
}

/** Repositories on the same registry that already hold this image (mount sources). */
function otherRepositories(record: ImageRecord, ref: ImageReference): string[] {
  const prefix = `${ref.registry}/`;
  return [...new Set(record.repoDigests.map((d) => d.split("@")[0]!))]
    .filter((r) => r.startsWith(prefix) && r !== repositoryName(ref))
    .map((r) => r.slice(prefix.length));
}
