import "server-only";
import { z } from "zod";

// Docker distribution (registry) notifications: the registry POSTs an
// envelope, Content-Type application/vnd.docker.distribution.events.v1+json,
// { events: [{ id, timestamp, action: "push"|"pull"|"delete"|…, target: {
// mediaType, size, digest, length, repository, url, tag }, request, actor,
// source }] }. A manifest push names the repository, the manifest's digest and
// (since distribution 2.4) the tag; a layer (blob) push names a blob and no tag.
// Pure: what a call asks for is worked out here, the rest in deliver.ts.

export const ENVELOPE_MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json";
/** At most this many events in one envelope (the registry sends a handful). */
export const MAX_EVENTS = 1000;

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

const targetSchema = z.looseObject({
  mediaType: z.string().max(256).optional(),
  digest: z.string().max(200).optional(),
  repository: z.string().max(255).optional(),
  tag: z.string().max(128).optional(),
  url: z.string().max(2048).optional(),
});
const eventSchema = z.looseObject({
  id: z.string().max(200).optional(),
  timestamp: z.string().max(64).optional(),
  action: z.string().max(32),
  target: targetSchema.optional(),
});
const envelopeSchema = z.looseObject({ events: z.array(eventSchema).max(MAX_EVENTS) });

export interface PushEvent {
  repository: string;
  tag: string | null;
  digest: string | null;
  mediaType: string | null;
  timestamp: string | null;
}

export interface SkippedEvent {
  action: string;
  repository: string | null;
  reason: string;
}

export type EnvelopeParse = { ok: true; pushes: PushEvent[]; skipped: SkippedEvent[] } | { ok: false; problem: string };

/** A media type without parameters, lower-cased ("application/json; charset=utf-8" → "application/json"). */
export function mediaTypeOf(contentType: string | null | undefined): string | null {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type || null;
}

function isManifest(mediaType: string | undefined, tag: string | undefined): boolean {
  if (tag) return true;
  if (!mediaType) return false;
  return /manifest|image\.index/i.test(mediaType);
}

/**
 * The envelope's manifest pushes (well-formed ones), and what was skipped and
 * why: other actions (pull, delete, mount), layer pushes, malformed targets.
 */
export function parseEnvelope(value: unknown): EnvelopeParse {
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "the body";
    return { ok: false, problem: `Not a registry notification envelope ({"events":[…]}): ${where}: ${issue?.message ?? "invalid"}` };
  }
  const pushes: PushEvent[] = [];
  const skipped: SkippedEvent[] = [];
  for (const e of parsed.data.events) {
    const t = e.target;
    const repository = t?.repository ?? null;
    if (e.action !== "push") {
      skipped.push({ action: e.action, repository, reason: `a ${e.action.slice(0, 32)} event, not a push` });
      continue;
    }
    if (!t || !repository || !REPOSITORY.test(repository)) {
      skipped.push({ action: e.action, repository, reason: "the event names no valid repository" });
      continue;
    }
    if (!isManifest(t.mediaType, t.tag)) {
      skipped.push({ action: e.action, repository, reason: "a layer push (only manifest pushes change an image)" });
      continue;
    }
    const digest = t.digest && DIGEST.test(t.digest) ? t.digest : null;
    const tag = t.tag && TAG.test(t.tag) ? t.tag : null;
    if (!digest && !tag) {
      skipped.push({ action: e.action, repository, reason: "the event names neither a valid digest nor a tag" });
      continue;
    }
    pushes.push({ repository, tag, digest, mediaType: t.mediaType ?? null, timestamp: e.timestamp ?? null });
  }
  return { ok: true, pushes, skipped };
}

/** Of several pushes, the one to roll out: the latest by timestamp (the registry doesn't promise order), else the last. */
export function latestPush(pushes: readonly PushEvent[]): PushEvent | null {
  let best: PushEvent | null = null;
  let bestAt = -Infinity;
  for (const p of pushes) {
    const at = p.timestamp ? Date.parse(p.timestamp) : NaN;
    const key = Number.isNaN(at) ? -Infinity : at;
    if (best === null || key >= bestAt) {
      best = p;
      bestAt = key;
    }
  }
  return best;
}
