import "server-only";
import { canOnHost, type HostRef } from "../auth/access";
import type { Db } from "../db";
import type { RolloutRequester } from "../rollouts/types";

// Whether a rollout on a host must wait for an approver: the host, or its
// group, has an ApprovalRule, and the request isn't made by someone holding
// deploys.approve there (a person deploying by form or API), nor by a
// webhook or watch an approver made "pre-approved". A webhook or watch made
// by an approver without "pre-approved" still waits: it acts unattended; one
// whose creator has since lost deploys.approve there waits too.

export interface ApprovalNeed {
  required: boolean;
  /** How long the request may wait (from the rule). */
  expiryHours: number;
}

export async function approvalNeed(db: Db, host: HostRef, requester: RolloutRequester): Promise<ApprovalNeed> {
  const keys = [`host:${host.id}`, ...(host.hostGroupId ? [`hostGroup:${host.hostGroupId}`] : [])];
  const rules = await db.approvalRule.findMany({ where: { scopeKey: { in: keys } } });
  if (rules.length === 0) return { required: false, expiryHours: 0 };
  const expiryHours = Math.min(...rules.map((r) => r.expiryHours));
  // "Pre-approved" stands only while its creator (the viewer, as they are now) still holds deploys.approve here.
  const approver = canOnHost(requester.viewer, "deploys.approve", host);
  if (requester.preApproved && approver) return { required: false, expiryHours };
  const unattended = requester.actor.type === "webhook" || requester.actor.type === "system";
  if (!unattended && approver) return { required: false, expiryHours };
  return { required: true, expiryHours };
}
