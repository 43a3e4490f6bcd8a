import "server-only";
import type { StackService } from "../../lib/compose/model";
import { parseReference, repositoryName } from "../../lib/image-reference";
import { AppError } from "../errors";

// The pure parts of a stack rollout: which services an image belongs to, the
// order services roll in (every dependency before its dependents: depends_on
// and network_mode "service:x"), and how each is replaced (start-first, or
// stop-first where two containers of it can't run side by side).

/** "registry/repository" of a reference, or null for one that isn't (an image ID). */
export function repositoryOf(image: string): string | null {
  if (/^(sha256:)?[a-f0-9]{64}$/.test(image)) return null;
  try {
    return repositoryName(parseReference(image));
  } catch {
    return null;
  }
}

/** The services whose image is of the repository of `image` (the tag may differ), in the order given. */
export function servicesOfRepository(services: Pick<StackService, "name" | "spec">[], image: string): string[] {
  const repo = repositoryOf(image);
  if (!repo) return [];
  return services.filter((s) => repositoryOf(s.spec.image) === repo).map((s) => s.name);
}

type Ordered = Pick<StackService, "name" | "dependsOn" | "networkMode">;

/** What a service must come after: its depends_on, and the service whose network it shares. */
export function dependenciesOf(s: Ordered): string[] {
  const out = s.dependsOn.map((d) => d.service);
  if (s.networkMode?.startsWith("service:")) out.push(s.networkMode.slice("service:".length));
  return [...new Set(out)];
}

/**
 * The services of the stack in dependency order (each after everything it
 * depends on, otherwise in the order given), restricted to `only` when given.
 * A cycle is refused: compose refuses it too, and no order would be right.
 */
export function rolloutOrder(services: Ordered[], only?: readonly string[]): string[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (done.has(name)) return;
    const s = byName.get(name);
    if (!s) return; // a dependency outside the stack (a disabled profile): nothing to order
    if (visiting.has(name)) throw new AppError("BAD_REQUEST", `The services depend on each other in a cycle: ${[...path, name].join(" → ")}.`);
    visiting.add(name);
    for (const d of dependenciesOf(s)) visit(d, [...path, name]);
    visiting.delete(name);
    done.add(name);
    out.push(name);
  };
  for (const s of services) visit(s.name, []);
  return only ? out.filter((n) => only.includes(n)) : out;
}

export type RolloutStrategy = "start-first" | "stop-first";

/**
 * Start-first unless a second container of the service can't run beside the
 * first: it publishes a fixed host port, has a fixed address (IP or MAC), or
 * shares another container's (or the host's) network.
 */
export function strategyFor(s: Pick<StackService, "spec" | "networks" | "networkMode" | "extra">): { strategy: RolloutStrategy; why: string | null } {
  const fixed = (s.spec.ports ?? []).find((p) => p.hostPort !== undefined);
  if (fixed) return { strategy: "stop-first", why: `it publishes the fixed host port ${fixed.hostPort}` };
  if (s.networkMode !== null) return { strategy: "stop-first", why: `its network mode is ${s.networkMode}` };
  if (s.networks.some((n) => n.ipv4Address)) return { strategy: "stop-first", why: "it has a fixed IP address" };
  if (s.extra.macAddress) return { strategy: "stop-first", why: "it has a fixed MAC address" };
  return { strategy: "start-first", why: null };
}

/** The RepoDigest (familiar "repo@sha256:…") of `image`'s repository among an image's RepoDigests. */
export function digestFor(image: string, repoDigests: readonly string[] | null | undefined): string | null {
  const repo = repositoryOf(image);
  if (!repo) return null;
  for (const d of repoDigests ?? []) {
    const at = d.indexOf("@");
    if (at > 0 && repositoryOf(d.slice(0, at)) === repo) return d;
  }
  return null;
}

/** The name part of a reference, without its tag: "registry:5000/team/api". */
function nameOf(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
}

/**
 * `image` pinned to `digest` ("sha256:…" or a whole "repo@sha256:…"), its tag
 * kept: "repo:tag@sha256:…". The digest is what runs (Docker ignores a tag
 * next to one); the tag says what the service follows (a watch, an update).
 */
export function pinnedTo(image: string, digest: string): string {
  const sha = digest.slice(digest.indexOf("@") + 1);
  const at = image.indexOf("@");
  return `${at >= 0 ? image.slice(0, at) : image}@${sha}`;
}

/** A pinned reference as a digest is recorded: "repo@sha256:…" (no tag); null for one that pins none. */
export function digestRef(image: string): string | null {
  const at = image.indexOf("@");
  return at >= 0 ? `${nameOf(image)}${image.slice(at)}` : null;
}

/** The tag a pinned reference follows ("repo:tag@sha256:…" → "repo:tag"), or the reference as it is. */
export function followedRef(image: string): string {
  const at = image.indexOf("@");
  if (at < 0) return image;
  const name = image.slice(0, at);
  return name === nameOf(image) ? image : name;
}
