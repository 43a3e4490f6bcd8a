import "server-only";
import { canOnHost, type HostRef, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { DecisionFacts } from "./decision-rules";
import type { ApprovalRow } from "./views";

// One approval request as the viewer may see it: on a host they can read
// (hosts.read) or decide on (deploys.approve). A request that doesn't exist
// is refused like one the viewer can't see (no lookup by id alone).

export function seesHost(viewer: Viewer, host: HostRef): boolean {
  return canOnHost(viewer, "hosts.read", host) || canOnHost(viewer, "deploys.approve", host);
}

export const APPROVAL_INCLUDE = { rollout: { include: { host: { select: { id: true, name: true, hostGroupId: true } } } } } as const;

export async function loadApproval(db: Db, viewer: Viewer, id: string): Promise<ApprovalRow> {
  const row = await db.approvalRequest.findUnique({ where: { id }, include: APPROVAL_INCLUDE });
  if (!row || !seesHost(viewer, row.rollout.host)) throw new AppError("FORBIDDEN", "No such approval request on a host you can read.");
  return row;
}

/** The facts the decision rules look at; the webhook's creator is looked up (they count as the requester). */
export async function factsOf(db: Db, row: ApprovalRow): Promise<DecisionFacts> {
  const r = row.rollout;
  const webhook = r.webhookId ? await db.webhook.findUnique({ where: { id: r.webhookId }, select: { createdById: true } }) : null;
  return factsFrom(row, webhook?.createdById ?? null);
}

export function factsFrom(row: ApprovalRow, webhookCreatorId: string | null): DecisionFacts {
  const r = row.rollout;
  return {
    status: row.status,
    expiresAt: row.expiresAt,
    requestedById: row.requestedById,
    otherRequesterIds: [r.requestedById, webhookCreatorId, r.actorType === "user" ? r.actorId : null],
    decidedLabel: row.decidedLabel,
  };
}
