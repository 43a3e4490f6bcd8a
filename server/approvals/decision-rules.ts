import "server-only";
import { canOnHost, type HostRef, type Viewer } from "../auth/access";
import { AppError } from "../errors";

// Who may decide an approval request, and when: pure rules, so they can be
// read (and unit-tested) in one place. The service (decide-approval.ts)
// applies them, then makes the decision with a conditional update, so two
// approvers at once still end in exactly one decision.

export type Decision = "approve" | "reject" | "cancel";

/** What the rules look at: the request, its rollout, and who made what asked for it. */
export interface DecisionFacts {
  status: string;
  expiresAt: Date;
  /** The user the rollout acts for (a webhook's or watch's creator for those). */
  requestedById: string | null;
  /** Everyone else who counts as the requester: the rollout's user, the webhook's creator, the actor when it is a user. */
  otherRequesterIds: (string | null | undefined)[];
  decidedLabel: string | null;
}

/** How far back a "run at" may lie (a clock a little behind), and how far ahead it may be chosen. */
export const RUN_AT_SLACK_MS = 60_000;
export const RUN_AT_MAX_AHEAD_MS = 30 * 24 * 3600_000;

const STATUS_WORDS: Record<string, string> = {
  approved: "has already been approved",
  rejected: "has already been rejected",
  expired: "has expired",
  cancelled: "was cancelled by its requester",
};

export function isRequester(viewer: Viewer, facts: DecisionFacts): boolean {
  const me = viewer.user.id;
  return facts.requestedById === me || facts.otherRequesterIds.some((id) => id === me);
}

export function isExpired(facts: Pick<DecisionFacts, "expiresAt">, now: Date): boolean {
  return facts.expiresAt.getTime() <= now.getTime();
}

/** A request no longer "waiting", in words (and who decided it). */
function notWaiting(facts: DecisionFacts): AppError {
  const words = STATUS_WORDS[facts.status] ?? `is ${facts.status}`;
  const by = facts.decidedLabel && (facts.status === "approved" || facts.status === "rejected") ? ` by ${facts.decidedLabel}` : "";
  return new AppError("CONFLICT", `This approval request ${words}${by}; it can't be decided again.`);
}

function expired(facts: DecisionFacts): AppError {
  return new AppError("CONFLICT", `This approval request expired at ${facts.expiresAt.toISOString()}; it can no longer be approved or rejected. Ask for the rollout again.`);
}

/**
 * Why `viewer` may not make `decision` on the request now, or null when they
 * may. Order matters: rights first (a denial is audited as such), then the
 * request's state.
 */
export function decisionRefusal(decision: Decision, viewer: Viewer, host: HostRef, facts: DecisionFacts, now: Date): AppError | null {
  if (decision === "cancel") {
    if (!isRequester(viewer, facts)) return new AppError("FORBIDDEN", "Only the requester can cancel an approval request; an approver rejects it instead.");
    if (facts.status !== "waiting") return notWaiting(facts);
    if (isExpired(facts, now)) return new AppError("CONFLICT", `This approval request expired at ${facts.expiresAt.toISOString()}; there is nothing to cancel.`);
    return null;
  }
  if (!canOnHost(viewer, "deploys.approve", host)) return new AppError("FORBIDDEN", "You need the deploys.approve permission on this host to approve or reject.");
  if (isRequester(viewer, facts)) return new AppError("FORBIDDEN", "You asked for this rollout, so you can't approve or reject it: another approver must decide.");
  if (facts.status !== "waiting") return notWaiting(facts);
  if (isExpired(facts, now)) return expired(facts);
  return null;
}

/** The time an approved rollout may start: now (null) or a chosen time not in the past and at most 30 days ahead. */
export function runAtRefusal(runAt: Date | null, now: Date): AppError | null {
  if (runAt === null) return null;
  if (Number.isNaN(runAt.getTime())) return new AppError("BAD_REQUEST", "runAt is not a valid time.");
  if (runAt.getTime() < now.getTime() - RUN_AT_SLACK_MS) return new AppError("BAD_REQUEST", `runAt (${runAt.toISOString()}) is in the past; leave it out to run now.`);
  if (runAt.getTime() > now.getTime() + RUN_AT_MAX_AHEAD_MS) return new AppError("BAD_REQUEST", "runAt may be at most 30 days ahead.");
  return null;
}

/** The viewer can decide the request (the inbox's "canDecide"): approve or reject are both allowed now. */
export function canDecide(viewer: Viewer, host: HostRef, facts: DecisionFacts, now: Date): boolean {
  return decisionRefusal("approve", viewer, host, facts, now) === null;
}
