import "server-only";
import { formatReference, parseReference, repositoryName } from "../../lib/image-reference";
import { normaliseRegistry } from "../../lib/policy/rules";
import type { Db } from "../db";
import { isFleetError } from "../fleet/errors";
import type { FleetServices } from "../fleet/instance";
import type { TagDigest } from "../generated/prisma/client";
import { registryAuthHeader } from "../services/registries/registries";
import { backoffSeconds, previousDelay } from "./backoff";

// What a tag points at, asked of a host's agent (GET /distribution/{name}/json:
// a HEAD on the manifest, seen from the host) and kept in TagDigest, which
// watching and "update available" share.
//
// Backoff is per registry and per reference:
//  - a 429, a registry error (5xx) or a registry that can't be reached puts
//    the whole registry on hold: a row keyed "<registry>/*" holds its
//    retryAfter (the registry's Retry-After, else exponential, capped), and no
//    tag of that registry is asked for until then;
//  - an answer about the tag itself (unknown tag, credentials refused) holds
//    that reference only, backing off the same way.
// A host that can't be reached holds nothing: it is not the registry's fault.

export interface TagCheck {
  /** The reference checked, normalised ("registry/repo:tag"). */
  reference: string;
  /** The digest the tag points at ("sha256:…"), the last one known if this check failed. */
  digest: string | null;
  /** The image config's `created` (from the host's agent), when the image says. */
  created: string | null;
  /** Why this check gave no fresh answer, or null. */
  error: string | null;
  /** Not asked before this (the registry, or this reference, is backing off). */
  retryAfter: Date | null;
  /** The registry wasn't asked at all (backing off). */
  skipped: boolean;
}

/** The key of a registry's own backoff row in TagDigest. */
export const registryKey = (registry: string) => `${registry}/*`;

/**
 * The tag a reference follows, normalised, or null when it follows none (an
 * image id, a bare digest). "repo:tag@sha256:…" (what a watcher's rollout
 * saves: the digest it runs, and the tag it came from) follows its tag.
 */
export function followedTag(image: string): string | null {
  if (/^(sha256:)?[a-f0-9]{12,64}$/.test(image)) return null;
  try {
    const ref = parseReference(image, { defaultTag: false });
    if (ref.digest && !ref.tag) return null;
    return formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag ?? "latest" });
  } catch {
    return null;
  }
}

/** The digest a reference pins ("sha256:…"), or null. */
export function pinnedDigest(image: string): string | null {
  try {
    return parseReference(image, { defaultTag: false }).digest ?? null;
  } catch {
    return null;
  }
}

/** Whether `repoDigests` (as a host reports them, familiar or full) hold `digest` for the repository of `reference`. */
export function holdsDigest(reference: string, repoDigests: readonly string[] | null | undefined, digest: string): boolean {
  const repo = repositoryName(parseReference(reference));
  for (const d of repoDigests ?? []) {
    try {
      const ref = parseReference(d, { defaultTag: false });
      if (repositoryName(ref) === repo && ref.digest === digest) return true;
    } catch {
      // not a reference: ignore
    }
  }
  return false;
}

/** The digest among `repoDigests` of the repository of `reference`, or null. */
export function digestIn(reference: string, repoDigests: readonly string[] | null | undefined): string | null {
  const repo = repositoryName(parseReference(reference));
  for (const d of repoDigests ?? []) {
    try {
      const ref = parseReference(d, { defaultTag: false });
      if (repositoryName(ref) === repo && ref.digest) return ref.digest;
    } catch {
      // not a reference: ignore
    }
  }
  return null;
}

/**
 * X-Registry-Auth for a reference: the saved registry named (a deployment's
 * registryId), else a saved registry whose address is the image's; none:
 * anonymous. A saved registry's credentials only ever go to its own address
 * (registryAuthHeader refuses the rest).
 */
async function authFor(db: Db, services: FleetServices, reference: string, registryId?: string | null): Promise<string | undefined> {
  if (registryId) return (await registryAuthHeader(db, services.box, registryId, reference)).header;
  const registry = normaliseRegistry(parseReference(reference).registry);
  const saved = await db.registry.findMany({ select: { id: true, address: true }, orderBy: { name: "asc" }, take: 500 });
  const match = saved.find((r) => normaliseRegistry(r.address) === registry);
  return match ? (await registryAuthHeader(db, services.box, match.id, reference)).header : undefined;
}

export interface CheckTagOptions {
  hostId: string;
  /** Any reference; its tag is checked. */
  reference: string;
  registryId?: string | null;
  /** Ask even if this reference is backing off (a person's "check now"); the registry's own hold is still obeyed. */
  force?: boolean;
  now?: Date;
}

function fromRow(reference: string, row: TagDigest | null, extra: Partial<TagCheck>): TagCheck {
  return { reference, digest: row?.digest ?? null, created: null, error: row?.error ?? null, retryAfter: row?.retryAfter ?? null, skipped: false, ...extra };
}

/** Checks a tag through a host's agent and records the answer (or the backoff) in TagDigest. */
export async function checkTag(db: Db, services: FleetServices, o: CheckTagOptions): Promise<TagCheck> {
  const now = o.now ?? new Date();
  const reference = followedTag(o.reference);
  if (!reference) throw new Error(`"${o.reference}" follows no tag`);
  const registry = parseReference(reference).registry;
  const [row, hold] = await Promise.all([
    db.tagDigest.findUnique({ where: { reference } }),
    db.tagDigest.findUnique({ where: { reference: registryKey(registry) } }),
  ]);
  if (hold?.retryAfter && hold.retryAfter > now) {
    return fromRow(reference, row, { skipped: true, retryAfter: hold.retryAfter, error: `${hold.error ?? "the registry asked to wait"}; not asked again before ${hold.retryAfter.toISOString()}` });
  }
  if (!o.force && row?.retryAfter && row.retryAfter > now) {
    return fromRow(reference, row, { skipped: true, error: `${row.error ?? "backing off"}; not asked again before ${row.retryAfter.toISOString()}` });
  }

  let answer: Awaited<ReturnType<ReturnType<FleetServices["fleet"]["client"]>["distribution"]>>;
  try {
    const registryAuth = await authFor(db, services, reference, o.registryId);
    answer = await services.fleet.client(o.hostId).distribution(reference, { registryAuth, timeoutMs: 30_000 });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const status = isFleetError(e) ? e.details.status : undefined;
    if (status === undefined) {
      // The host (or our own settings) failed, not the registry: nothing is held.
      return fromRow(reference, row, { error: message });
    }
    const registryWide = status === 429 || status >= 500;
    const target = registryWide ? hold : row;
    const retryAfterSeconds = status === 429 ? ((e as { retryAfterSeconds?: number | null }).retryAfterSeconds ?? null) : null;
    const delay = backoffSeconds({ retryAfterSeconds, previousDelaySeconds: previousDelay(target) });
    const retryAfter = new Date(now.getTime() + delay * 1000);
    const key = registryWide ? registryKey(registry) : reference;
    await db.tagDigest.upsert({
      where: { reference: key },
      create: { reference: key, digest: null, checkedAt: now, error: message.slice(0, 500), retryAfter },
      update: { checkedAt: now, error: message.slice(0, 500), retryAfter },
    });
    return fromRow(reference, row, { error: message, retryAfter });
  }
  const digest = answer.Descriptor.digest;
  await db.tagDigest.upsert({
    where: { reference },
    create: { reference, digest, checkedAt: now, error: null, retryAfter: null },
    update: { digest, checkedAt: now, error: null, retryAfter: null },
  });
  // The registry answered: whatever hold it had is over.
  if (hold?.error) await db.tagDigest.update({ where: { reference: registryKey(registry) }, data: { error: null, retryAfter: null, checkedAt: now } }).catch(() => {});
  return { reference, digest, created: answer.Created ?? null, error: null, retryAfter: null, skipped: false };
}
