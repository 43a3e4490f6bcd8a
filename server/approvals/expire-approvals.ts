import "server-only";
import { SYSTEM_ACTOR } from "../audit/types";
import { writeAudit } from "../audit/write";
import type { Db } from "../db";
import type { ApprovalRequest, Prisma } from "../generated/prisma/client";
import type { RolloutStep } from "../rollouts/types";

// Requests nobody decided in time: "expired", and their rollouts with them
// (nothing touches the host). The sweep (sweep.ts) runs this on a schedule,
// a bounded batch at a time; a decision on an expired request is refused
// even before the sweep got to it (decision-rules.ts), and records it then.

class ExpiryRace extends Error {}

/** Marks one waiting request (and its waiting rollout) expired; false when it wasn't waiting any more. Audited as the system. */
export async function expireOne(db: Db, request: Pick<ApprovalRequest, "id" | "rolloutId" | "hostId" | "expiresAt">, now: Date): Promise<boolean> {
  // The rollout's row first, then the request's, as decisions and the engine's cancel lock them.
  const done = await db.$transaction(async (tx) => {
    const waiting = await tx.approvalRequest.findFirst({ where: { id: request.id, status: "waiting", expiresAt: { lte: now } }, select: { id: true } });
    if (!waiting) return false;
    const rollout = await tx.rollout.findUnique({ where: { id: request.rolloutId }, select: { steps: true } });
    const message = `Approval expired at ${request.expiresAt.toISOString()} without a decision.`;
    const steps = [...(Array.isArray(rollout?.steps) ? rollout.steps : []), { at: now.toISOString(), phase: "approval", message } satisfies RolloutStep];
    await tx.rollout.updateMany({
      where: { id: request.rolloutId, status: "awaitingApproval" },
      data: { status: "expired", finishedAt: now, reason: message, steps: steps as unknown as Prisma.InputJsonValue },
    });
    const moved = await tx.approvalRequest.updateMany({ where: { id: request.id, status: "waiting", expiresAt: { lte: now } }, data: { status: "expired", decidedAt: now } });
    // Someone else moved it meanwhile: undo (the rollout's update goes with the transaction).
    if (moved.count !== 1) throw new ExpiryRace();
    return true;
  }).catch((e: unknown) => {
    if (e instanceof ExpiryRace) return false;
    throw e;
  });
  if (done) {
    await writeAudit(db, {
      actor: SYSTEM_ACTOR,
      action: "approvals.expire",
      outcome: "success",
      target: { type: "rollout", id: request.rolloutId },
      hostId: request.hostId,
      params: { approvalId: request.id, rolloutId: request.rolloutId, expiresAt: request.expiresAt.toISOString() },
    });
  }
  return done;
}

/** Expires at most `limit` overdue requests, oldest deadline first; returns how many it expired. */
export async function expireApprovals(db: Db, o: { now?: Date; limit?: number } = {}): Promise<number> {
  const now = o.now ?? new Date();
  const due = await db.approvalRequest.findMany({
    where: { status: "waiting", expiresAt: { lte: now } },
    orderBy: { expiresAt: "asc" },
    take: Math.min(Math.max(o.limit ?? 100, 1), 1000),
    select: { id: true, rolloutId: true, hostId: true, expiresAt: true },
  });
  let expired = 0;
  for (const request of due) if (await expireOne(db, request, now)) expired++;
  return expired;
}
