import "server-only";
import type { AgentClient } from "../fleet/agent/client";
import { parseReference, repositoryName } from "../../lib/image-reference";

// Digests as rollouts record them: "repo@sha256:…" of the reference's own
// repository, from the image's RepoDigests as the host reports them.

/** The repository a reference names (registry and path, no tag or digest); null for an image ID or a bad reference. */
export function repositoryOf(reference: string): string | null {
  if (/^(sha256:)?[a-f0-9]{12,64}$/.test(reference)) return null;
  try {
    return repositoryName(parseReference(reference));
  } catch {
    return null;
  }
}

/** Whether a reference is already pinned by digest. */
export function isDigestReference(reference: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(reference);
}

/** The repo digest among `repoDigests` of the same repository as `reference` (as written there), or null. */
export function matchingRepoDigest(reference: string, repoDigests: readonly string[] | null | undefined): string | null {
  const repo = repositoryOf(reference);
  if (!repo) return null;
  if (isDigestReference(reference)) return reference;
  for (const d of repoDigests ?? []) {
    if (repositoryOf(d) !== repo) continue;
    const at = d.indexOf("@");
    if (at > 0) return `${reference.split("@")[0]!.replace(/:[^/:]+$/, "")}${d.slice(at)}`;
  }
  return null;
}

/** The digest the host's image for `reference` has (null when it has none, or the image came from no registry). */
export async function digestOnHost(client: AgentClient, reference: string): Promise<string | null> {
  if (isDigestReference(reference)) return reference;
  const image = await client.inspectImage(reference, { timeoutMs: 15_000 });
  return matchingRepoDigest(reference, (image as { RepoDigests?: string[] | null } | null)?.RepoDigests);
}

/** The digest of the image a container runs (by its image ID), in the repository of `reference`. */
export async function containerDigest(client: AgentClient, containerId: string, reference: string): Promise<string | null> {
  const c = await client.inspectContainer(containerId, { timeoutMs: 15_000 });
  if (isDigestReference(c.Config.Image)) return c.Config.Image;
  const image = await client.inspectImage(c.Image, { timeoutMs: 15_000 });
  return matchingRepoDigest(reference, (image as { RepoDigests?: string[] | null } | null)?.RepoDigests);
}
