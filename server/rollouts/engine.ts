import "server-only";
import { approvalNeed } from "../approvals/required";
import { canOnHost } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { FleetServices } from "../fleet/instance";
import type { Prisma, Rollout } from "../generated/prisma/client";
import { progressKey } from "../services/operations/progress";
import { planDeploymentRollout } from "./deployment-rollout";
import { live, rememberProgressKey } from "./live";
import { planStackRollout } from "./stack-rollout";
import { FINISHED_STATUSES, type RolloutAccepted, type RolloutPlan, type RolloutRequest, type RolloutStatus, type RolloutStep } from "./types";
import { ensureRolloutWorker } from "./worker";

// The rollout engine's entry points: the deploy form and REST update, a
// webhook, the registry watcher, a rollback and an approval all come here.
// A request is planned and checked at once (permission, same repository,
// policy by name), then written as a Rollout row: queued for the worker
// (server/rollouts/worker.ts), or waiting for an approver.

export interface RolloutDeps {
  db: Db;
  services: FleetServices;
}

function planOf(deps: RolloutDeps, req: RolloutRequest): Promise<RolloutPlan> {
  if (req.target.kind === "deployment") return planDeploymentRollout(deps, req as RolloutRequest & { target: { kind: "deployment" } });
  return planStackRollout(deps, req as RolloutRequest & { target: { kind: "stack" } });
}

const step = (phase: RolloutStep["phase"], message: string): RolloutStep => ({ at: new Date().toISOString(), phase, message });

/**
 * Plans the request (what changes, the policy verdict), writes the Rollout
 * row and either queues it (superseding older queued ones of the same target)
 * or, where approval is required, opens an ApprovalRequest and leaves it
 * "awaitingApproval". Audited by the caller's entry point.
 */
export async function requestRollout(deps: RolloutDeps, req: RolloutRequest): Promise<RolloutAccepted> {
  const plan = await planOf(deps, req);
  const host = { id: plan.hostId, hostGroupId: plan.hostGroupId };
  // The planners check too; this is the engine's own fail-closed check.
  const permission = req.target.kind === "deployment" ? "containers.deploy" : "stacks.deploy";
  if (!canOnHost(req.requester.viewer, permission, host)) {
    throw new AppError("FORBIDDEN", `This needs the ${permission} permission on the host.`);
  }
  const need = await approvalNeed(deps.db, host, req.requester);
  const status: RolloutStatus = need.required ? "awaitingApproval" : "queued";
  const actor = req.requester.actor;
  const data: Prisma.RolloutUncheckedCreateInput = {
    hostId: plan.hostId,
    deploymentId: plan.deploymentId ?? null,
    stackId: plan.stackId ?? null,
    services: plan.services ?? [],
    trigger: req.trigger,
    actorType: actor.type,
    actorId: actor.id ?? null,
    actorLabel: actor.label ?? null,
    requestedById: req.requester.viewer.user.id,
    webhookId: req.requester.webhookId ?? null,
    status,
    imageRef: plan.imageRef ?? req.image ?? null,
    digestBefore: plan.digestBefore ?? null,
    digests: (plan.digests ?? {}) as Prisma.InputJsonValue,
    specBefore: (plan.specBefore ?? undefined) as Prisma.InputJsonValue | undefined,
    specAfter: (plan.specAfter ?? undefined) as Prisma.InputJsonValue | undefined,
    versionBefore: plan.versionBefore ?? null,
    specDiff: plan.specDiff as unknown as Prisma.InputJsonValue,
    verdict: (plan.verdict ?? undefined) as Prisma.InputJsonValue | undefined,
    override: Boolean(req.override),
    rollbackOfId: req.rollbackOfId ?? null,
    steps: [
      need.required
        ? step("approval", `Waiting for an approver (expires in ${need.expiryHours} h)`)
        : step("queued", `Queued (${req.trigger}${actor.label ? ` by ${actor.label}` : ""})`),
    ] as unknown as Prisma.InputJsonValue,
  };
  const targetWhere = plan.deploymentId ? { deploymentId: plan.deploymentId } : { stackId: plan.stackId };
  const created = await deps.db.$transaction(async (tx) => {
    const row = await tx.rollout.create({ data });
    if (need.required) {
      await tx.approvalRequest.create({
        data: {
          rolloutId: row.id,
          hostId: plan.hostId,
          requestedById: req.requester.viewer.user.id,
          requestedLabel: actor.label ?? req.requester.viewer.user.email,
          expiresAt: new Date(Date.now() + need.expiryHours * 3_600_000),
        },
      });
    } else {
      await supersedeQueued(tx as unknown as Db, targetWhere, row.id);
    }
    return row;
  });
  rememberProgressKey(created.id, progressKey(req.requester.viewer, req.progressToken));
  if (!need.required) {
    ensureRolloutWorker(deps.services, deps.db);
    kickRollouts();
  }
  return { rolloutId: created.id, status };
}

/** Marks the target's "queued" rollouts requested before `newerId` superseded by it. */
export async function supersedeQueued(db: Db, target: { deploymentId?: string | null; stackId?: string | null }, newerId: string): Promise<number> {
  const where = target.deploymentId ? { deploymentId: target.deploymentId } : target.stackId ? { stackId: target.stackId } : null;
  if (!where) return 0;
  const newer = await db.rollout.findUnique({ where: { id: newerId }, select: { createdAt: true } });
  if (!newer) return 0;
  // Only requests made before it: an approved rollout doesn't supersede a newer request queued meanwhile.
  const older = await db.rollout.findMany({ where: { ...where, status: "queued", id: { not: newerId }, createdAt: { lte: newer.createdAt } }, select: { id: true, steps: true } });
  for (const o of older) {
    await db.rollout.updateMany({
      where: { id: o.id, status: "queued" },
      data: {
        status: "superseded",
        finishedAt: new Date(),
        reason: `Superseded by a newer request (${newerId})`,
        steps: [...((o.steps as unknown as RolloutStep[]) ?? []), step("done", `Superseded by ${newerId}`)] as unknown as Prisma.InputJsonValue,
      },
    });
  }
  return older.length;
}

/**
 * An approved rollout joins the queue (not before `runAt`, when given):
 * older queued rollouts of its target are superseded, as for a new request,
 * and the worker is woken. False when it wasn't awaiting approval (already
 * decided, cancelled or expired): nothing changes.
 */
export async function queueApprovedRollout(db: Db, rolloutId: string, o: { runAt?: Date | null; approvedBy?: string | null } = {}): Promise<boolean> {
  const row = await db.rollout.findUnique({ where: { id: rolloutId }, select: { steps: true, deploymentId: true, stackId: true } });
  if (!row) return false;
  const when = o.runAt && o.runAt.getTime() > Date.now() ? o.runAt : null;
  const line = step("queued", `Approved${o.approvedBy ? ` by ${o.approvedBy}` : ""}; ${when ? `runs at ${when.toISOString()}` : "queued"}`);
  const changed = await db.rollout.updateMany({
    where: { id: rolloutId, status: "awaitingApproval" },
    data: { status: "queued", notBefore: when, steps: [...((row.steps as unknown as RolloutStep[]) ?? []), line] as unknown as Prisma.InputJsonValue },
  });
  if (changed.count === 0) return false;
  await supersedeQueued(db, row, rolloutId);
  kickRollouts();
  return true;
}

/** Waits (bounded) until the rollout has finished or timeoutMs passed; returns the row as it is then. */
export async function waitForRollout(db: Db, rolloutId: string, timeoutMs: number): Promise<Rollout> {
  const deadline = Date.now() + Math.max(0, Math.min(timeoutMs, 60 * 60_000));
  let pause = 100;
  // Bounded by the deadline; the pause grows to 1 s.
  for (;;) {
    const row = await db.rollout.findUnique({ where: { id: rolloutId } });
    if (!row) throw new AppError("NOT_FOUND", "No such rollout.");
    if ((FINISHED_STATUSES as readonly string[]).includes(row.status) || Date.now() >= deadline) return row;
    await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(0, deadline - Date.now()))));
    pause = Math.min(pause * 2, 1_000);
  }
}

/** Wakes the worker (a rollout was approved or queued by another process). */
export function kickRollouts(): void {
  live().wake?.();
}
