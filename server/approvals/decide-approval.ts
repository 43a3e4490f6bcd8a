import "server-only";
import type { Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import type { AuditNote } from "../pipeline/audit-log";
import { kickRollouts, supersedeQueued } from "../rollouts/engine";
import type { RolloutStep } from "../rollouts/types";
import { type Decision, decisionRefusal, isExpired, runAtRefusal } from "./decision-rules";
import { expireOne } from "./expire-approvals";
import { factsOf, loadApproval } from "./load-approval";
import type { ApprovalRow } from "./views";

// Approve, reject or cancel a waiting request. The rules (decision-rules.ts)
// are checked first; then one transaction moves the request out of
// "waiting" and its rollout out of "awaitingApproval", each with a
// conditional update, so of two approvers deciding at once exactly one wins
// and the other is told who did. An approved rollout is queued (not before
// runAt) and the worker is woken; a rejected or cancelled one never reaches
// the host. Approved, it supersedes its target's older queued rollouts.

export interface DecideInput {
  db: Db;
  viewer: Viewer;
  id: string;
  decision: Decision;
  comment: string;
  runAt?: Date | null;
  /** The caller's audit record: target, host and params are filled in here. */
  audit?: AuditNote;
  now?: Date;
}

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

const RESULT: Record<Decision, { request: string; rollout: string; past: string }> = {
  approve: { request: "approved", rollout: "queued", past: "Approved" },
  reject: { request: "rejected", rollout: "rejected", past: "Rejected" },
  cancel: { request: "cancelled", rollout: "cancelled", past: "Cancelled by the requester" },
};

export async function decideApproval(o: DecideInput): Promise<ApprovalRow> {
  const now = o.now ?? new Date();
  const comment = o.comment.trim();
  const runAt = o.decision === "approve" ? (o.runAt ?? null) : null;
  const row = await loadApproval(o.db, o.viewer, o.id);
  if (o.audit) {
    o.audit.target = { type: "rollout", id: row.rolloutId };
    o.audit.hostId = row.hostId;
    o.audit.params = { approvalId: row.id, rolloutId: row.rolloutId, decision: o.decision, comment, ...(runAt ? { runAt: runAt.toISOString() } : {}) };
  }
  const facts = await factsOf(o.db, row);
  const refusal = decisionRefusal(o.decision, o.viewer, row.rollout.host, facts, now);
  if (refusal) {
    // Expired but not yet swept: record it as expired now (the answer is the same either way).
    if (facts.status === "waiting" && isExpired(facts, now)) await expireOne(o.db, row, now).catch(() => undefined);
    throw refusal;
  }
  if (o.decision === "reject" && !comment) throw new AppError("BAD_REQUEST", "Say why in a comment when you reject a request.");
  const badTime = runAtRefusal(runAt, now);
  if (badTime) throw badTime;

  const label = o.viewer.user.email;
  const result = RESULT[o.decision];
  const when = runAt && runAt.getTime() > now.getTime() ? ` to run at ${runAt.toISOString()}` : "";
  const message = `${result.past}${o.decision === "cancel" ? "" : ` by ${label}`}${when}${comment ? `: ${comment}` : ""}`;

  // The rollout's row first, then the request's: the order the engine's cancel locks them in (no deadlock between the two).
  await o.db.$transaction(async (tx) => {
    const rollout = await tx.rollout.findUniqueOrThrow({ where: { id: row.rolloutId }, select: { steps: true } });
    const steps = [...(Array.isArray(rollout.steps) ? rollout.steps : []), { at: now.toISOString(), phase: "approval", message } satisfies RolloutStep];
    const finished = o.decision !== "approve";
    const leftWaiting = await tx.rollout.updateMany({
      where: { id: row.rolloutId, status: "awaitingApproval" },
      data: {
        status: result.rollout,
        steps: steps as unknown as Prisma.InputJsonValue,
        ...(finished ? { finishedAt: now, reason: message } : { notBefore: runAt && runAt.getTime() > now.getTime() ? runAt : null }),
      },
    });
    if (leftWaiting.count !== 1) throw await lostRace(tx, row.id, "rollout");
    const moved = await tx.approvalRequest.updateMany({
      where: { id: row.id, status: "waiting", expiresAt: { gt: now } },
      data: { status: result.request, decidedById: o.viewer.user.id, decidedLabel: label, decidedAt: now, comment: comment || null, runAt },
    });
    if (moved.count !== 1) throw await lostRace(tx, row.id, "request");
    // Approved, it is the newest request of its target: older queued ones give way to it, as at requestRollout.
    if (!finished) await supersedeQueued(tx as unknown as Db, { deploymentId: row.rollout.deploymentId, stackId: row.rollout.stackId }, row.rolloutId);
  });
  if (o.decision === "approve") kickRollouts();
  return loadApproval(o.db, o.viewer, o.id);
}

/** The other side of a race: someone decided, cancelled (or it expired) between the check and the update. Nothing was changed. */
async function lostRace(tx: Tx, id: string, what: "rollout" | "request"): Promise<AppError> {
  const now = await tx.approvalRequest.findUnique({ where: { id }, select: { status: true, decidedLabel: true } });
  if (!now) return new AppError("CONFLICT", "This approval request no longer exists.");
  if (now.status === "waiting") {
    return new AppError(
      "CONFLICT",
      what === "rollout"
        ? "This request's rollout is no longer waiting for approval; nothing was changed."
        : "This approval request expired just now; it can no longer be approved or rejected.",
    );
  }
  const by = now.decidedLabel && (now.status === "approved" || now.status === "rejected") ? ` by ${now.decidedLabel}` : "";
  return new AppError("CONFLICT", `This approval request was ${now.status}${by} a moment ago; it can't be decided again.`);
}
