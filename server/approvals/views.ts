import "server-only";
import type { Db } from "../db";
import type { ApprovalRequest, Host, Rollout } from "../generated/prisma/client";
import type { ApprovalStatusName, ApprovalSummary, ApprovalView, RolloutDetail, RolloutStatusName, RolloutTriggerName, RolloutView } from "../../lib/rollouts/views";

// Rows → the shapes the console and the API see (lib/rollouts/views.ts).
// approvedByOf is what a rollout row shows as "approved by".

export type RolloutWithHost = Rollout & { host: Pick<Host, "id" | "name" | "hostGroupId"> };
export type ApprovalRow = ApprovalRequest & { rollout: RolloutWithHost };

/** Who approved a rollout (RolloutView.approvedBy): the approver's label once approved, else null. */
export function approvedByOf(approval: Pick<ApprovalRequest, "status" | "decidedLabel"> | null | undefined): string | null {
  return approval?.status === "approved" ? (approval.decidedLabel ?? "an approver") : null;
}

export function approvalSummaryOf(a: ApprovalRequest): ApprovalSummary {
  return {
    id: a.id,
    status: a.status as ApprovalStatusName,
    requestedLabel: a.requestedLabel,
    decidedLabel: a.decidedLabel,
    decidedAt: a.decidedAt,
    comment: a.comment,
    runAt: a.runAt,
    expiresAt: a.expiresAt,
  };
}

/** The names of the deployments and stacks the rollouts change (one query each). */
export async function targetNames(db: Db, rollouts: Pick<Rollout, "deploymentId" | "stackId">[]): Promise<Map<string, string>> {
  const deploymentIds = [...new Set(rollouts.flatMap((r) => (r.deploymentId ? [r.deploymentId] : [])))];
  const stackIds = [...new Set(rollouts.flatMap((r) => (r.stackId ? [r.stackId] : [])))];
  const [deployments, stacks] = await Promise.all([
    deploymentIds.length ? db.deployment.findMany({ where: { id: { in: deploymentIds } }, select: { id: true, name: true } }) : [],
    stackIds.length ? db.stack.findMany({ where: { id: { in: stackIds } }, select: { id: true, name: true } }) : [],
  ]);
  return new Map([...deployments, ...stacks].map((x) => [x.id, x.name]));
}

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const asRecord = <T>(v: unknown): Record<string, T> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, T>) : {});

export function rolloutViewOf(r: RolloutWithHost, names: Map<string, string>, approval: ApprovalRequest | null): RolloutView {
  const target: RolloutView["target"] = r.stackId
    ? { kind: "stack", id: r.stackId, name: names.get(r.stackId) ?? "(removed stack)" }
    : { kind: "deployment", id: r.deploymentId ?? "", name: (r.deploymentId && names.get(r.deploymentId)) || "(removed deployment)" };
  const status = r.status as RolloutStatusName;
  return {
    id: r.id,
    hostId: r.hostId,
    hostName: r.host.name,
    target,
    services: r.services,
    trigger: r.trigger as RolloutTriggerName,
    actor: { type: r.actorType, id: r.actorId, label: r.actorLabel },
    status,
    imageRef: r.imageRef,
    digestBefore: r.digestBefore,
    digestAfter: r.digestAfter,
    digests: asRecord(r.digests),
    strategy: r.strategy,
    reason: r.reason,
    approvedBy: approvedByOf(approval),
    rollbackOfId: r.rollbackOfId,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
    canRollback: status === "succeeded" && (r.digestAfter !== null || r.versionAfter !== null),
  };
}

export function rolloutDetailOf(r: RolloutWithHost, names: Map<string, string>, approval: ApprovalRequest | null): RolloutDetail {
  const verdict = r.verdict && typeof r.verdict === "object" && !Array.isArray(r.verdict) ? (r.verdict as unknown as RolloutDetail["verdict"]) : null;
  return {
    ...rolloutViewOf(r, names, approval),
    steps: asArray(r.steps),
    specDiff: asArray(r.specDiff),
    verdict,
    logTail: r.logTail,
    approval: approval ? approvalSummaryOf(approval) : null,
  };
}

export function approvalViewOf(a: ApprovalRow, names: Map<string, string>, canDecide: boolean): ApprovalView {
  const { rollout, ...request } = a;
  return {
    ...approvalSummaryOf(request),
    rolloutId: a.rolloutId,
    requestedById: a.requestedById,
    createdAt: a.createdAt,
    canDecide,
    rollout: rolloutDetailOf(rollout, names, request),
  };
}
