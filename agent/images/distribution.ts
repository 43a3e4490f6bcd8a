import type { ImageReference } from "../../lib/image-reference";
import { ImageError } from "./errors";
import { imageConfigSchema, indexSchema, isIndexType, manifestSchema } from "./media-types";
import { hostPlatform, selectPlatform, type Platform } from "./platform";
import type { ManifestDescriptor, RegistryClient, Repo } from "./registry-client";

// Docker's distribution inspect (GET /distribution/{name}/json): what a tag
// points at in its registry, seen from this host (its credentials, TLS and
// address rules). The tag costs one HEAD on the manifest; the platforms and
// the image's creation time come from the manifest and config, which are
// immutable for a digest, so they are fetched once per digest and kept in a
// small cache: a tag that hasn't moved costs a HEAD and nothing else.

export interface DistributionPlatform {
  architecture: string;
  os: string;
  "os.version"?: string;
  variant?: string;
}

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: DistributionPlatform[];
  /**
   * Berth's addition: the `created` time of the image config this host would
   * run (for an index: the entry for the host's platform), when the image
   * says; Docker's answer has no such field and clients ignore it.
   */
  Created?: string;
}

interface DigestFacts {
  platforms: DistributionPlatform[];
  created?: string;
}

const CACHE_LIMIT = 256;

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return null;
  }
}

async function readSmallBlob(registry: RegistryClient, repo: Repo, digest: string, max = 1024 * 1024): Promise<Buffer> {
  const blob = await registry.getBlob(repo, digest);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of blob.stream) {
      total += (chunk as Buffer).length;
      if (total > max) throw new ImageError("SIZE_MISMATCH", `image config ${digest} is larger than ${max} bytes`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    blob.stream.destroy();
  }
  return Buffer.concat(chunks);
}

export class DistributionInspector {
  private readonly facts = new Map<string, DigestFacts>();

  constructor(
    private readonly registry: RegistryClient,
    private readonly platform: Platform = hostPlatform(),
  ) {}

  async inspect(ref: ImageReference): Promise<DistributionInspect> {
    const repo: Repo = { registry: ref.registry, repository: ref.repository };
    const descriptor: ManifestDescriptor = await this.registry.headManifest(repo, ref.digest ?? ref.tag ?? "latest");
    const key = `${ref.registry}/${ref.repository}@${descriptor.digest}`;
    let facts = this.facts.get(key);
    if (!facts) {
      // What the digest is matters; its platforms and age are extras: a registry that won't serve them (rate limited, a
      // manifest or config it can't find) leaves them out of this answer, and they are asked for again next time.
      const described = await this.describe(repo, descriptor.digest).catch(() => null);
      facts = described ?? { platforms: [] };
      if (described) {
        if (this.facts.size >= CACHE_LIMIT) this.facts.delete(this.facts.keys().next().value!);
        this.facts.set(key, described);
      }
    }
    return {
      Descriptor: { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size },
      Platforms: facts.platforms,
      ...(facts.created ? { Created: facts.created } : {}),
    };
  }

  /** Platforms and creation time of a manifest by digest. */
  private async describe(repo: Repo, digest: string): Promise<DigestFacts> {
    const manifest = await this.registry.getManifest(repo, digest, { rateLimit: true });
    const parsed = parseJson(manifest.bytes) as { mediaType?: string } | null;
    if (isIndexType(manifest.mediaType) || isIndexType(parsed?.mediaType)) {
      const index = indexSchema.safeParse(parsed);
      if (!index.success) return { platforms: [] };
      const platforms = index.data.manifests
        .filter((m) => m.platform && m.platform.os !== "unknown")
        .map((m) => ({ architecture: m.platform!.architecture, os: m.platform!.os, ...(m.platform!.variant ? { variant: m.platform!.variant } : {}), ...(m.platform!["os.version"] ? { "os.version": m.platform!["os.version"] } : {}) }));
      let created: string | undefined;
      try {
        const chosen = selectPlatform(index.data.manifests, this.platform);
        created = (await this.configOf(repo, chosen.digest))?.created;
      } catch {
        created = undefined;
      }
      return { platforms, created };
    }
    const config = await this.configFromManifest(repo, parsed).catch(() => null);
    const platforms = config && (config.os || config.architecture) ? [{ architecture: config.architecture ?? "", os: config.os ?? "", ...(config.variant ? { variant: config.variant } : {}) }] : [];
    return { platforms, created: config?.created };
  }

  private async configOf(repo: Repo, manifestDigest: string) {
    const manifest = await this.registry.getManifest(repo, manifestDigest, { rateLimit: true });
    return this.configFromManifest(repo, parseJson(manifest.bytes));
  }

  private async configFromManifest(repo: Repo, manifest: unknown) {
    const parsed = manifestSchema.safeParse(manifest);
    if (!parsed.success) return null;
    const config = imageConfigSchema.partial({ rootfs: true }).safeParse(parseJson(await readSmallBlob(this.registry, repo, parsed.data.config.digest)));
    return config.success ? config.data : null;
  }
}
