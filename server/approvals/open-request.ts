import "server-only";
import type { Db } from "../db";
import type { ApprovalRequest, Rollout } from "../generated/prisma/client";
import type { RolloutRequester } from "../rollouts/types";
import type { ApprovalNeed } from "./required";

// Opens the approval request of a rollout that must wait for an approver
// (approvalNeed said so). The engine's requestRollout calls it right after it
// wrote the Rollout row with status "awaitingApproval" (in the same
// transaction if it has one); tests call it to make waiting requests.

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** How the inbox names who asked: the person, or what acted for them ("webhook ci-main for ann@…"). */
export function requesterLabel(requester: RolloutRequester): string {
  const email = requester.viewer.user.email;
  const { actor } = requester;
  if (actor.type === "user") return actor.label ?? email;
  if (actor.type === "token") return `${email} (API token${actor.label ? ` ${actor.label}` : ""})`;
  if (actor.type === "webhook") return `webhook${actor.label ? ` ${actor.label}` : ""} for ${email}`;
  if (actor.type === "system") return `${actor.label && actor.label !== "system" ? actor.label : "registry watch"} for ${email}`;
  return email;
}

export async function openApprovalRequest(
  db: Db | Tx,
  rollout: Pick<Rollout, "id" | "hostId">,
  need: ApprovalNeed,
  requester: RolloutRequester,
  now: Date = new Date(),
): Promise<ApprovalRequest> {
  const hours = Math.max(1, need.expiryHours || 72);
  return db.approvalRequest.create({
    data: {
      rolloutId: rollout.id,
      hostId: rollout.hostId,
      requestedById: requester.viewer.user.id,
      requestedLabel: requesterLabel(requester).slice(0, 300),
      status: "waiting",
      expiresAt: new Date(now.getTime() + hours * 3600_000),
    },
  });
}
