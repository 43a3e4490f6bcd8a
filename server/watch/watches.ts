import "server-only";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { MaintenanceWindow, WatchState, WatchView } from "../../lib/rollouts/views";
import { parseReference, repositoryName } from "../../lib/image-reference";
import { canOnHost, type Viewer } from "../auth/access";
import type { Actor } from "../audit/types";
import { isTokenViewer, viewerForCreator } from "../tokens/viewer-for-token";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { FleetServices } from "../fleet/instance";
import { type ImageWatch, Prisma } from "../generated/prisma/client";
import { AuditTrail } from "../pipeline/audit-log";
import { requestRollout } from "../rollouts/engine";
import type { FleetAccess } from "../services/service-deps";
import { checkTag } from "./tag-digests";
import { CHANGE_PERMISSION, containerDigest, loadTarget, loadTargetFor, READ_PERMISSION, runningContainer, stackServices, type WatchTarget, type WatchTargetInput } from "./targets";
import { describeWindow, insideWindow, isTimeZone, nextOpening } from "./window";

// Registry watching: a deployment, or a stack's service, follows its tag.
// Each check asks the host's agent what the tag points at now (a HEAD on the
// manifest). A digest other than the running one is "seen" (seenDigest,
// seenAt: when this gateway first saw it on the tag). It is rolled out — once,
// as trigger "watcher", acting for the watch's creator as they are now — when
//  - the image is at least minAgeSeconds old, its age counted from seenAt
//    (the first time Berth saw that digest on the tag; see the README for why
//    not the image config's `created`), and
//  - now is inside the maintenance window, if there is one.
// A digest is rolled out at most once: a later check finds the watcher's
// rollout of it (whatever became of it) and leaves it be; a request the engine
// refused is remembered in lastError and not asked again for that digest.

export const WATCHER_ACTOR: Actor = { type: "system", id: null, label: "watcher" };

export const windowSchema = z
  .object({
    days: z.array(z.number().int().min(0).max(6)).max(7),
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour"),
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour"),
    timeZone: z.string().min(1).max(64).refine(isTimeZone, "an IANA time zone such as UTC or Europe/Berlin"),
  })
  .transform((w) => ({ ...w, days: [...new Set(w.days)].sort((a, b) => a - b) }));

export const watchSettingsSchema = z.object({
  enabled: z.boolean(),
  intervalSeconds: z.number().int().min(10).max(86_400).default(300),
  minAgeSeconds: z.number().int().min(0).max(30 * 86_400).default(0),
  window: windowSchema.nullable().default(null),
  preApproved: z.boolean().default(false),
});
export type WatchSettings = z.infer<typeof watchSettingsSchema>;

const REFUSED_PREFIX = "Rollout refused for ";
/** pg_advisory_xact_lock class of watch writes (sign-in uses 72707371–2). */
const WATCH_LOCK_CLASS = 72707381;

function targetWhere(t: WatchTargetInput): Prisma.ImageWatchWhereInput {
  return "deploymentId" in t ? { deploymentId: t.deploymentId, stackId: null, service: "" } : { stackId: t.stackId, service: t.service, deploymentId: null };
}

function inputOf(w: Pick<ImageWatch, "deploymentId" | "stackId" | "service">): WatchTargetInput {
  return w.deploymentId ? { deploymentId: w.deploymentId } : { stackId: w.stackId!, service: w.service };
}

function windowOf(w: ImageWatch): MaintenanceWindow | null {
  const parsed = windowSchema.safeParse(w.window);
  return parsed.success ? parsed.data : null;
}

/** The watcher's rollout of `digest` for this watch's target, if it asked for one. */
async function rolloutOf(db: Db, w: Pick<ImageWatch, "deploymentId" | "stackId" | "service">, digest: string) {
  return db.rollout.findFirst({
    where: {
      trigger: "watcher",
      imageRef: { endsWith: `@${digest}` },
      ...(w.deploymentId ? { deploymentId: w.deploymentId } : { stackId: w.stackId, services: { has: w.service } }),
    },
    orderBy: { createdAt: "desc" },
    select: { id: true, status: true },
  });
}

/** Why the watch is (not) rolling out, derived from what is stored; never stored itself. */
export async function watchState(db: Db, w: ImageWatch, currentDigest: string | null, now = new Date()): Promise<WatchState> {
  if (!w.enabled) return { kind: "disabled", message: "Watching is off.", until: null, rolloutId: null };
  if (!w.seenDigest) return { kind: w.lastError ? "error" : "unchecked", message: w.lastError ?? "Not checked yet.", until: null, rolloutId: null };
  if (currentDigest && currentDigest === w.seenDigest) return { kind: "upToDate", message: `Running the tag's digest ${w.seenDigest}.`, until: null, rolloutId: null };
  const rollout = await rolloutOf(db, w, w.seenDigest);
  if (rollout) return { kind: "rolloutRequested", message: `The watcher asked for a rollout of ${w.seenDigest} (${rollout.status}).`, until: null, rolloutId: rollout.id };
  if (w.lastError?.startsWith(`${REFUSED_PREFIX}${w.seenDigest}`)) return { kind: "refused", message: w.lastError, until: null, rolloutId: null };
  const ripe = (w.seenAt?.getTime() ?? now.getTime()) + w.minAgeSeconds * 1000;
  if (ripe > now.getTime()) {
    return { kind: "waitingForAge", message: `${w.seenDigest} was first seen ${w.seenAt?.toISOString()}; it is rolled out once it is ${w.minAgeSeconds} s old.`, until: new Date(ripe), rolloutId: null };
  }
  const window = windowOf(w);
  if (!insideWindow(window, now)) {
    return { kind: "outsideWindow", message: `${w.seenDigest} waits for the maintenance window (${describeWindow(window!)}).`, until: nextOpening(window, now), rolloutId: null };
  }
  return { kind: "due", message: `${w.seenDigest} is rolled out at the next check.`, until: w.nextCheckAt, rolloutId: null };
}

async function currentDigestOf(services: FleetServices | null, target: WatchTarget | null): Promise<string | null> {
  if (!services || !target?.reference) return null;
  try {
    const client = services.fleet.client(target.host.id);
    const container = await runningContainer(client, target);
    return container ? await containerDigest(client, container, target.reference) : null;
  } catch {
    return null;
  }
}

export async function toView(db: Db, w: ImageWatch, target: WatchTarget | null, currentDigest: string | null, now = new Date()): Promise<WatchView> {
  return {
    id: w.id,
    target: w.deploymentId ? { kind: "deployment", id: w.deploymentId, service: "" } : { kind: "stack", id: w.stackId!, service: w.service },
    enabled: w.enabled,
    intervalSeconds: w.intervalSeconds,
    minAgeSeconds: w.minAgeSeconds,
    window: windowOf(w),
    preApproved: w.preApproved,
    reference: target?.reference ?? target?.image ?? "",
    currentDigest,
    seenDigest: w.seenDigest,
    seenAt: w.seenAt,
    updateAvailable: Boolean(w.seenDigest && currentDigest && w.seenDigest !== currentDigest),
    lastCheckedAt: w.lastCheckedAt,
    lastError: w.lastError,
    nextCheckAt: w.nextCheckAt,
    state: await watchState(db, w, currentDigest, now),
  };
}

// ---- the use cases (routers and REST call these) ----

export interface WatchDeps {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
}

export async function getWatch(d: WatchDeps, input: WatchTargetInput): Promise<WatchView | null> {
  const target = await loadTargetFor(d.db, d.viewer, input, "read");
  const w = await d.db.imageWatch.findFirst({ where: targetWhere(input) });
  if (!w) return null;
  return toView(d.db, w, target, await currentDigestOf(await d.fleet().catch(() => null), target));
}

/**
 * A watch by id, checked against the viewer's rights on its target (on the
 * watch's host when the target is gone). Refused alike when missing.
 */
async function watchFor(d: { db: Db; viewer: Viewer }, id: string, need: "read" | "change") {
  const w = await d.db.imageWatch.findUnique({ where: { id } });
  const host = w ? await d.db.host.findUnique({ where: { id: w.hostId } }) : null;
  const target = w ? await loadTarget(d.db, inputOf(w)) : null;
  const kind = w?.deploymentId ? "deployment" : "stack";
  const permission = need === "read" ? READ_PERMISSION[kind] : CHANGE_PERMISSION[kind];
  if (!w || !host || !canOnHost(d.viewer, permission, target?.host ?? host)) throw new AppError("FORBIDDEN", `You need the ${permission} permission on this watch's host.`);
  return { w, target };
}

export async function setWatch(d: WatchDeps & { audit: { target?: unknown; hostId?: string | null } }, input: WatchTargetInput, settings: WatchSettings): Promise<WatchView> {
  const target = await loadTargetFor(d.db, d.viewer, input, "change");
  d.audit.hostId = target.host.id;
  if (!target.reference) {
    throw new AppError("BAD_REQUEST", `${target.name} runs "${target.image}", which names no tag to follow: deploy it by tag (repo:tag) to watch it.`);
  }
  if (settings.preApproved && !canOnHost(d.viewer, "deploys.approve", target.host)) {
    throw new AppError("FORBIDDEN", "Only someone who holds deploys.approve on this host can make a watch pre-approved.");
  }
  const data = {
    enabled: settings.enabled,
    intervalSeconds: settings.intervalSeconds,
    minAgeSeconds: settings.minAgeSeconds,
    window: settings.window ? (settings.window as Prisma.InputJsonValue) : Prisma.DbNull,
    preApproved: settings.preApproved,
  };
  // One watch per target: the unique index can't say so (NULL columns never collide), so sets of one target are
  // serialised under an advisory lock and the second finds the first's row.
  const key = "deploymentId" in input ? `deployment:${input.deploymentId}` : `stack:${input.stackId}:${input.service}`;
  const w = await d.db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${WATCH_LOCK_CLASS}::int4, hashtext(${key}))`;
    const existing = await tx.imageWatch.findFirst({ where: targetWhere(input) });
    return existing
      ? tx.imageWatch.update({
          where: { id: existing.id },
          // Whoever changes a watch is who it acts for from now on; a watch turned on is checked at once.
          data: { ...data, createdById: d.viewer.user.id, tokenId: isTokenViewer(d.viewer) ? d.viewer.token.id : null, ...(settings.enabled && !existing.enabled ? { nextCheckAt: new Date() } : {}) },
        })
      : tx.imageWatch.create({
          data: {
            ...data,
            hostId: target.host.id,
            deploymentId: target.kind === "deployment" ? target.id : null,
            stackId: target.kind === "stack" ? target.id : null,
            service: target.service,
            createdById: d.viewer.user.id,
            tokenId: isTokenViewer(d.viewer) ? d.viewer.token.id : null,
            nextCheckAt: new Date(),
          },
        });
  });
  return toView(d.db, w, target, null);
}

export async function removeWatch(d: WatchDeps & { audit: { hostId?: string | null } }, id: string): Promise<{ ok: true }> {
  // Gone or not, the target's (else the watch's) host decides: containers.deploy / stacks.deploy there.
  const { w } = await watchFor(d, id, "change");
  d.audit.hostId = w.hostId;
  await d.db.imageWatch.delete({ where: { id } });
  return { ok: true };
}

export async function checkWatchNow(d: WatchDeps & { audit: { hostId?: string | null } }, id: string): Promise<WatchView> {
  const { w, target } = await watchFor(d, id, "change");
  d.audit.hostId = w.hostId;
  if (!target) throw new AppError("NOT_FOUND", "The watch's deployment or stack service is gone.");
  const services = await d.fleet();
  const after = await checkWatch(d.db, services, w, { force: true });
  return toView(d.db, after.watch, after.target, after.currentDigest);
}

export async function watchesForStack(d: WatchDeps, stackId: string): Promise<{ service: string; watch: WatchView | null; updateAvailable: boolean }[]> {
  const found = await stackServices(d.db, stackId);
  if (!found || !canOnHost(d.viewer, "stacks.read", found.host)) throw new AppError("FORBIDDEN", "You need the stacks.read permission on this stack's host.");
  const watches = await d.db.imageWatch.findMany({ where: { stackId, deploymentId: null } });
  const services = await d.fleet().catch(() => null);
  const out: { service: string; watch: WatchView | null; updateAvailable: boolean }[] = [];
  for (const name of found.names.slice(0, 200)) {
    const target = await loadTarget(d.db, { stackId, service: name });
    const current = await currentDigestOf(services, target);
    const w = watches.find((x) => x.service === name);
    const tag = target?.reference ? await d.db.tagDigest.findUnique({ where: { reference: target.reference } }) : null;
    out.push({
      service: name,
      watch: w ? await toView(d.db, w, target, current) : null,
      updateAvailable: Boolean(current && tag?.digest && tag.digest !== current),
    });
  }
  return out;
}

// ---- one check (the scheduler and "check now") ----

export interface CheckResult {
  watch: ImageWatch;
  target: WatchTarget | null;
  currentDigest: string | null;
  rolloutId: string | null;
}

function auditMeta() {
  return { requestId: `watch-${randomBytes(6).toString("hex")}`, ip: null, userAgent: "berth-watcher" };
}

/**
 * Checks one watch: the tag's digest through the host, what runs now, and
 * whether the rules let a new digest roll out. Writes what it learnt to the
 * watch; asks for at most one rollout per digest.
 */
export async function checkWatch(db: Db, services: FleetServices, w: ImageWatch, o: { force?: boolean; now?: Date; log?: (line: string) => void } = {}): Promise<CheckResult> {
  const now = o.now ?? new Date();
  const log = o.log ?? ((line: string) => console.error(`[berth] watcher: ${line}`));
  const save = (data: Prisma.ImageWatchUpdateInput) => db.imageWatch.update({ where: { id: w.id }, data: { lastCheckedAt: now, ...data } });
  const target = await loadTarget(db, inputOf(w));
  // Its deployment or service is gone: the watch stops (it is kept, disabled, so whoever set it sees why).
  if (!target) return { watch: await save({ enabled: false, lastError: "The deployment or stack service is gone; watching stopped." }), target, currentDigest: null, rolloutId: null };
  if (!target.reference) return { watch: await save({ lastError: `"${target.image}" names no tag to follow.` }), target, currentDigest: null, rolloutId: null };

  const tag = await checkTag(db, services, { hostId: target.host.id, reference: target.reference, registryId: target.registryId, force: o.force, now });
  if (!tag.digest || (tag.error && !tag.skipped)) {
    return { watch: await save({ lastError: tag.error ?? "The registry gave no digest." }), target, currentDigest: null, rolloutId: null };
  }
  const digest = tag.digest;
  const currentDigest = await currentDigestOf(services, target);
  const seen = w.seenDigest === digest ? { seenDigest: digest, seenAt: w.seenAt ?? now } : { seenDigest: digest, seenAt: now };
  const keepRefusal = w.lastError?.startsWith(`${REFUSED_PREFIX}${digest}`) ? w.lastError : null;
  let watch = await save({ ...seen, lastError: tag.skipped ? tag.error : keepRefusal });

  if (!w.enabled || !currentDigest || currentDigest === digest) return { watch, target, currentDigest, rolloutId: null };
  if (keepRefusal || (await rolloutOf(db, watch, digest))) return { watch, target, currentDigest, rolloutId: null };

  const ripeAt = watch.seenAt!.getTime() + watch.minAgeSeconds * 1000;
  if (ripeAt > now.getTime()) {
    // Check again as soon as it is old enough, if that comes before the next interval.
    if (ripeAt < watch.nextCheckAt.getTime()) watch = await db.imageWatch.update({ where: { id: w.id }, data: { nextCheckAt: new Date(ripeAt) } });
    return { watch, target, currentDigest, rolloutId: null };
  }
  if (!insideWindow(windowOf(watch), now)) return { watch, target, currentDigest, rolloutId: null };

  // Roll it out, acting for the watch's creator as they are now; fail closed.
  const ref = parseReference(target.reference);
  const image = `${repositoryName(ref)}:${ref.tag}@${digest}`;
  const trail = new AuditTrail({ db, meta: auditMeta(), actor: WATCHER_ACTOR, action: "watches.rollout", log });
  trail.note.target = { type: target.kind, id: target.id };
  trail.note.hostId = target.host.id;
  trail.defaultParams = { watchId: w.id, service: target.service || undefined, reference: target.reference, digest, currentDigest };
  const viewer = await viewerForCreator(db, { userId: w.createdById, tokenId: w.tokenId });
  const creatorMay = viewer && canOnHost(viewer, target.kind === "deployment" ? "containers.deploy" : "stacks.deploy", target.host);
  if (!viewer || !creatorMay) {
    const why = `${REFUSED_PREFIX}${digest}: the watch's creator ${viewer ? "no longer holds the permission to deploy on this host" : w.tokenId ? "is disabled, or the API token it was set through is revoked or expired" : "is gone or disabled"}.`;
    await trail.outcome("denied", why).catch(() => {});
    watch = await db.imageWatch.update({ where: { id: w.id }, data: { lastError: why } });
    return { watch, target, currentDigest, rolloutId: null };
  }
  try {
    await trail.intent();
  } catch (e) {
    // Nothing was asked: tried again at the next check.
    watch = await db.imageWatch.update({ where: { id: w.id }, data: { lastError: e instanceof Error ? e.message : String(e) } });
    return { watch, target, currentDigest, rolloutId: null };
  }
  try {
    const accepted = await requestRollout(
      { db, services },
      {
        target: target.kind === "deployment" ? { kind: "deployment", deploymentId: target.id } : { kind: "stack", stackId: target.id, services: [target.service] },
        image,
        trigger: "watcher",
        requester: { actor: WATCHER_ACTOR, viewer, preApproved: w.preApproved },
      },
    );
    trail.note.params = { ...(trail.defaultParams as object), rolloutId: accepted.rolloutId, status: accepted.status };
    await trail.outcome("success", null);
    log(`${target.name}: ${target.reference} moved to ${digest}; rollout ${accepted.rolloutId} ${accepted.status}`);
    return { watch, target, currentDigest, rolloutId: accepted.rolloutId };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await trail.outcome(e instanceof AppError && e.code === "FORBIDDEN" ? "denied" : "error", message).catch(() => {});
    watch = await db.imageWatch.update({ where: { id: w.id }, data: { lastError: `${REFUSED_PREFIX}${digest}: ${message}`.slice(0, 1000) } });
    return { watch, target, currentDigest, rolloutId: null };
  }
}
