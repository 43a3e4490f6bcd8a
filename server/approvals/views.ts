import "server-only";
import type { ApprovalRequest, Host, Rollout } from "../generated/prisma/client";
import { approvalSummary, rolloutDetail } from "../rollouts/views";
import type { ApprovalView } from "../../lib/rollouts/views";

// Approval rows → the inbox's shape (lib/rollouts/views.ts ApprovalView); the
// rollout's detail is the timeline's own (server/rollouts/views.ts), so the
// inbox and the timeline show a rollout the same way.

export { targetNames } from "../rollouts/views";

export type RolloutWithHost = Rollout & { host: Pick<Host, "id" | "name" | "hostGroupId"> };
export type ApprovalRow = ApprovalRequest & { rollout: RolloutWithHost };

/** Who approved a rollout (RolloutView.approvedBy): the approver's label once approved, else null. */
export function approvedByOf(approval: Pick<ApprovalRequest, "status" | "decidedLabel"> | null | undefined): string | null {
  return approval?.status === "approved" ? (approval.decidedLabel ?? "an approver") : null;
}

export function approvalViewOf(a: ApprovalRow, names: Map<string, string>, canDecide: boolean): ApprovalView {
  const { rollout, ...request } = a;
  return {
    ...approvalSummary(request)!,
    rolloutId: a.rolloutId,
    requestedById: a.requestedById,
    createdAt: a.createdAt,
    canDecide,
    rollout: rolloutDetail({ ...rollout, approval: request }, names),
  };
}
