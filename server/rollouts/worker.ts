import "server-only";
import { emitSignal } from "../alerts/signals";
import type { Actor, ActorType } from "../audit/types";
import { writeAudit } from "../audit/write";
import { canOnHost, type Viewer } from "../auth/access";
import { viewerForUser } from "../auth/sessions";
import { isHostScoped, tokenGrants } from "../tokens/scope";
import { viewerForCreator } from "../tokens/viewer-for-token";
import type { Db } from "../db";
import { db as defaultDb } from "../db";
import type { FleetServices } from "../fleet/instance";
import type { Prisma, Rollout } from "../generated/prisma/client";
import { countRollout } from "../metrics/registry";
import { runDeploymentRollout } from "./deployment-rollout";
import { forgetProgressKey, live, progressKeyOf, progressPhase, rememberError } from "./live";
import { runStackRollout } from "./stack-rollout";
import type { RolloutStep, RunContext, RunOutcome } from "./types";

// The rollout queue's worker. The queue is the Rollout table: a worker claims
// the oldest "queued" rollout that may start (notBefore passed) and whose
// target has nothing "running", in one transaction with FOR UPDATE SKIP
// LOCKED, so several gateways can each run one; a per-target advisory lock
// held to the end of that transaction serialises two claims of one target.
// The requester is loaded again (their rights now: gone, disabled or no
// longer allowed fails closed), the rollout runs, its steps are written as
// they happen, and the outcome is audited as `rollouts.run` with the
// rollout's actor. Kicked when something is queued; polls every second for
// scheduled ones. A "running" rollout left by a gateway that died (started
// more than 15 minutes ago, not ours) is marked failed.

/** At most this many rollouts run at once in one process (of different targets). */
const MAX_CONCURRENT = 4;
const POLL_MS = 1_000;
export const STALE_AFTER_MS = 15 * 60_000;
const SWEEP_EVERY_MS = 30_000;

/** Claims the next rollout that may run now, or null. Exported for tests. */
export async function claimNextRollout(db: Db, now = new Date()): Promise<Rollout | null> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string; deploymentId: string | null; stackId: string | null }[]>`
      SELECT r."id", r."deploymentId", r."stackId" FROM "Rollout" r
      WHERE r."status" = 'queued' AND (r."notBefore" IS NULL OR r."notBefore" <= ${now})
        AND NOT EXISTS (
          SELECT 1 FROM "Rollout" o WHERE o."status" = 'running'
            AND (o."deploymentId" = r."deploymentId" OR o."stackId" = r."stackId"))
      ORDER BY r."createdAt" ASC, r."id" ASC
      LIMIT 1
      FOR UPDATE OF r SKIP LOCKED`;
    const row = rows[0];
    if (!row) return null;
    const target = row.deploymentId ? `rollout:deployment:${row.deploymentId}` : `rollout:stack:${row.stackId}`;
    // Two gateways may each have locked a different queued row of one target: only one gets the target.
    const locked = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext(${target})) AS ok`;
    if (!locked[0]?.ok) return null;
    const busy = await tx.rollout.count({
      where: { status: "running", ...(row.deploymentId ? { deploymentId: row.deploymentId } : { stackId: row.stackId }) },
    });
    if (busy > 0) return null;
    return tx.rollout.update({ where: { id: row.id }, data: { status: "running", startedAt: now } });
  });
}

const actorOfRow = (r: Rollout): Actor => ({ type: r.actorType as ActorType, id: r.actorId, label: r.actorLabel });

/** The requester's rights now, or why the rollout may not run (fail closed). */
async function requesterNow(db: Db, r: Rollout): Promise<{ viewer: Viewer } | { denied: string }> {
  if (!r.requestedById) return { denied: "The rollout names no requester whose rights it could run with." };
  let viewer = await viewerForUser(db, r.requestedById);
  if (!viewer) return { denied: "The requester's account no longer exists or is disabled." };
  // A webhook or a watch made through an API token acts within that token, as it is now.
  const madeThrough = await creatorToken(db, r);
  if (madeThrough) {
    const narrowed = await viewerForCreator(db, { userId: r.requestedById, tokenId: madeThrough });
    if (!narrowed) return { denied: `The API token the ${r.webhookId ? "webhook" : "watch"} was made through has been revoked, has expired or is gone.` };
    viewer = narrowed;
  }
  const host = await db.host.findUnique({ where: { id: r.hostId }, select: { id: true, hostGroupId: true } });
  if (!host) return { denied: "The host no longer exists." };
  if (r.actorType === "token") {
    // Asked through an API token: the token as it is now (revoked, expired, narrowed) bounds the owner's rights.
    const token = r.actorId ? await db.apiToken.findUnique({ where: { id: r.actorId } }) : null;
    if (!token || token.userId !== viewer.user.id) return { denied: "The API token that asked for it no longer exists." };
    if (token.revokedAt) return { denied: "The API token that asked for it has been revoked." };
    if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) return { denied: "The API token that asked for it has expired." };
    // Where each host the token or a grant names sits now (as authenticateToken works it out).
    const ids = isHostScoped(token) ? [...new Set([...token.hostIds, ...viewer.grants.flatMap((g) => (g.scope.type === "host" ? [g.scope.id] : []))])] : [];
    const named = ids.length ? await db.host.findMany({ where: { id: { in: ids } }, select: { id: true, hostGroupId: true } }) : [];
    const groups = new Map([[host.id, host.hostGroupId], ...named.map((h) => [h.id, h.hostGroupId] as const)]);
    viewer = { ...viewer, grants: tokenGrants(viewer.grants, token, groups) };
  }
  const permission = r.deploymentId ? "containers.deploy" : "stacks.deploy";
  if (!canOnHost(viewer, permission, host)) return { denied: `The requester no longer holds ${permission} on this host.` };
  return { viewer };
}

/** The API token the rollout's webhook or watch was made through (null: made in the console). */
async function creatorToken(db: Db, r: Rollout): Promise<string | null> {
  if (r.actorType === "token") return null;
  if (r.webhookId) return (await db.webhook.findUnique({ where: { id: r.webhookId }, select: { tokenId: true } }))?.tokenId ?? null;
  if (r.trigger !== "watcher") return null;
  const watch = await db.imageWatch.findFirst({
    where: r.deploymentId ? { deploymentId: r.deploymentId } : { stackId: r.stackId, ...(r.services.length ? { service: { in: r.services } } : {}) },
    select: { tokenId: true, createdById: true },
  });
  return watch && watch.createdById === r.requestedById ? watch.tokenId : null;
}

interface WorkerState {
  stopped: boolean;
  active: Map<string, AbortController>;
  timer: NodeJS.Timeout | null;
  ticking: boolean;
  again: boolean;
  lastSweep: number;
  services: FleetServices;
  db: () => Db;
  log: (line: string) => void;
  done: Set<Promise<void>>;
}

async function runOne(w: WorkerState, claimed: Rollout): Promise<void> {
  const db = w.db();
  const controller = new AbortController();
  w.active.set(claimed.id, controller);
  const steps: RolloutStep[] = [...((claimed.steps as unknown as RolloutStep[]) ?? [])];
  const key = progressKeyOf(claimed.id);
  const step = async (phase: RolloutStep["phase"], message: string, detail?: { service?: string }) => {
    steps.push({ at: new Date().toISOString(), phase, message });
    if (steps.length > 200) steps.splice(1, steps.length - 200);
    const p = progressPhase(phase);
    if (key && p && p !== "done" && p !== "error") w.services.fleet.reportProgress({ key, phase: p, message, ...(detail?.service ? { service: detail.service } : {}) });
    await db.rollout.update({ where: { id: claimed.id }, data: { steps: steps as unknown as Prisma.InputJsonValue } }).catch(() => undefined);
  };
  let outcome: RunOutcome & { error?: unknown; untouched?: boolean; digestBefore?: string | null; denied?: boolean };
  try {
    await step("queued", "Started");
    const who = await requesterNow(db, claimed);
    if ("denied" in who) {
      outcome = { ok: false, reason: who.denied, untouched: true, denied: true };
    } else {
      const ctx: RunContext = { db, services: w.services, rollout: claimed, viewer: who.viewer, step, signal: controller.signal };
      outcome = claimed.deploymentId ? await runDeploymentRollout(ctx) : await runStackRollout(ctx);
    }
  } catch (e) {
    outcome = { ok: false, reason: e instanceof Error ? e.message : String(e), error: e };
  }
  const final = outcome.ok ? "succeeded" : "failed";
  countRollout(claimed.deploymentId ? "deployment" : "stack", outcome.ok ? "succeeded" : outcome.denied ? "denied" : outcome.untouched ? "failed" : "rolled_back");
  await step(outcome.ok ? "done" : outcome.untouched ? "error" : "done", outcome.ok ? "Rolled out" : `Failed: ${outcome.reason ?? "unknown reason"}`);
  if (key) {
    const message = outcome.ok ? "Rolled out" : outcome.untouched ? (outcome.reason ?? "Failed") : `Rolled back: ${outcome.reason ?? "failed"}`;
    w.services.fleet.reportProgress({ key, phase: outcome.ok || !outcome.untouched ? "done" : "error", message });
    forgetProgressKey(claimed.id);
  }
  if (!outcome.ok && outcome.untouched && outcome.error !== undefined) rememberError(claimed.id, outcome.error);
  try {
    await db.rollout.update({
      where: { id: claimed.id },
      data: {
        status: final,
        finishedAt: new Date(),
        reason: outcome.ok ? null : (outcome.reason ?? "The rollout failed.").slice(0, 4000),
        logTail: outcome.logTail ?? null,
        strategy: outcome.strategy ?? null,
        digestAfter: outcome.digestAfter ?? null,
        ...(outcome.digestBefore !== undefined && outcome.digestBefore !== null ? { digestBefore: outcome.digestBefore } : {}),
        ...(outcome.digests ? { digests: outcome.digests as Prisma.InputJsonValue } : {}),
        ...(outcome.versionAfter !== undefined ? { versionAfter: outcome.versionAfter } : {}),
        steps: steps as unknown as Prisma.InputJsonValue,
      },
    });
  } catch (e) {
    w.log(`could not record the outcome of rollout ${claimed.id}: ${e instanceof Error ? e.message : String(e)}`);
  }
  emitSignal({
    type: "rollout.finished",
    rolloutId: claimed.id,
    hostId: claimed.hostId,
    target: `${claimed.deploymentId ? `deployment ${claimed.deploymentId}` : `stack ${claimed.stackId}`}${claimed.imageRef ? ` (${claimed.imageRef})` : ""}`,
    status: outcome.ok ? "succeeded" : outcome.untouched ? "failed" : "rolledBack",
    reason: outcome.ok ? null : (outcome.reason ?? null),
    at: new Date(),
  });
  try {
    await writeAudit(db, {
      actor: actorOfRow(claimed),
      action: "rollouts.run",
      outcome: outcome.ok ? "success" : outcome.denied ? "denied" : "error",
      target: claimed.deploymentId ? { type: "deployment", id: claimed.deploymentId } : { type: "stack", id: claimed.stackId },
      hostId: claimed.hostId,
      params: {
        rolloutId: claimed.id,
        trigger: claimed.trigger,
        status: final,
        strategy: outcome.strategy ?? null,
        digestBefore: outcome.digestBefore ?? claimed.digestBefore,
        digestAfter: outcome.digestAfter ?? null,
        rollbackOfId: claimed.rollbackOfId,
      },
      errorMessage: outcome.ok ? null : (outcome.reason ?? null),
    });
  } catch (e) {
    w.log(`could not audit rollout ${claimed.id}: ${e instanceof Error ? e.message : String(e)}`);
  }
  w.active.delete(claimed.id);
}

/** Marks running rollouts of dead gateways failed (never ours). */
async function sweepStale(w: WorkerState): Promise<void> {
  const db = w.db();
  const cutoff = new Date(Date.now() - STALE_AFTER_MS);
  const stale = await db.rollout.findMany({ where: { status: "running", startedAt: { lt: cutoff }, id: { notIn: [...w.active.keys()] } }, take: 50 });
  for (const r of stale) {
    await db.rollout.updateMany({
      where: { id: r.id, status: "running" },
      data: { status: "failed", finishedAt: new Date(), reason: "The gateway running this rollout stopped before it finished; check the container." },
    });
  }
}

async function tick(w: WorkerState): Promise<void> {
  if (w.stopped) return;
  if (w.ticking) {
    w.again = true;
    return;
  }
  w.ticking = true;
  try {
    // Bounded: at most MAX_CONCURRENT claims (plus one re-run when kicked meanwhile).
    for (let round = 0; round < 2 && !w.stopped; round++) {
      w.again = false;
      if (Date.now() - w.lastSweep > SWEEP_EVERY_MS) {
        w.lastSweep = Date.now();
        await sweepStale(w);
      }
      while (!w.stopped && w.active.size < MAX_CONCURRENT) {
        const claimed = await claimNextRollout(w.db());
        if (!claimed) break;
        const p: Promise<void> = runOne(w, claimed)
          .catch((e: unknown) => w.log(`rollout ${claimed.id} failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`))
          .finally(() => {
            w.done.delete(p);
            w.active.delete(claimed.id);
            // A finished rollout may unblock a queued one of the same target.
            void tick(w);
          });
        w.done.add(p);
      }
      if (!w.again) break;
    }
  } catch (e) {
    w.log(`rollout worker: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    w.ticking = false;
  }
}

const HOLDER = Symbol.for("berth.rollouts.worker");
const holder = globalThis as unknown as Record<symbol, WorkerState | undefined>;

/** Starts this process's worker (once); returns its stop function. */
export function startRolloutWorker(services: FleetServices, o: { db?: () => Db; log?: (line: string) => void } = {}): () => Promise<void> {
  const existing = holder[HOLDER];
  if (existing && !existing.stopped) return () => stopRolloutWorker();
  const w: WorkerState = {
    stopped: false,
    active: new Map(),
    timer: null,
    ticking: false,
    again: false,
    lastSweep: 0,
    services,
    db: o.db ?? defaultDb,
    log: o.log ?? ((line) => console.error(`[berth] ${line}`)),
    done: new Set(),
  };
  holder[HOLDER] = w;
  w.timer = setInterval(() => void tick(w), POLL_MS);
  w.timer.unref();
  live().wake = () => void tick(w);
  void tick(w);
  return () => stopRolloutWorker();
}

/**
 * A process that queues a rollout runs a worker too (the gateway starts one
 * at boot; a script or a test may not have): one for these fleet services.
 */
export function ensureRolloutWorker(services: FleetServices, db: Db): void {
  const w = holder[HOLDER];
  if (w && !w.stopped && w.services.fleet === services.fleet) return;
  if (w) void stopRolloutWorker();
  startRolloutWorker(services, { db: () => db });
}

/** Stops claiming; the rollouts running are let finish (awaited at most 30 s). */
export async function stopRolloutWorker(): Promise<void> {
  const w = holder[HOLDER];
  if (!w || w.stopped) return;
  w.stopped = true;
  if (w.timer) clearInterval(w.timer);
  if (live().wake) live().wake = null;
  holder[HOLDER] = undefined;
  await Promise.race([Promise.allSettled([...w.done]), new Promise((r) => setTimeout(r, 30_000).unref())]);
}
