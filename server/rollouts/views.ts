import "server-only";
import type { ApprovalSummary, ApprovalStatusName, RolloutDetail, RolloutStatusName, RolloutTriggerName, RolloutView } from "../../lib/rollouts/views";
import { hostCoverage, type Viewer } from "../auth/access";
import type { Db } from "../db";
import type { Prisma } from "../generated/prisma/client";
import { coveredHosts } from "../services/hosts/list-hosts";

// Rollout rows as the console and the API see them (lib/rollouts/views.ts),
// and the scope a viewer reads them in: a deployment's rollouts on hosts
// where they hold containers.read, a stack's where they hold stacks.read.
// Also used by the approvals inbox (its request's rollout detail).

/** The rows include this to make a view. */
export const ROLLOUT_INCLUDE = {
  host: { select: { name: true } },
  approval: true,
} satisfies Prisma.RolloutInclude;

export type RolloutRow = Prisma.RolloutGetPayload<{ include: typeof ROLLOUT_INCLUDE }>;

/** Rollouts the viewer may read. */
export function readableRollouts(viewer: Viewer): Prisma.RolloutWhereInput {
  return {
    OR: [
      { deploymentId: { not: null }, host: coveredHosts(hostCoverage(viewer, "containers.read")) },
      { stackId: { not: null }, host: coveredHosts(hostCoverage(viewer, "stacks.read")) },
    ],
  };
}

/** The names of the rows' deployments and stacks (one query each). */
export async function targetNames(db: Db, rows: { deploymentId: string | null; stackId: string | null }[]): Promise<Map<string, string>> {
  const deploymentIds = [...new Set(rows.map((r) => r.deploymentId).filter((x): x is string => Boolean(x)))];
  const stackIds = [...new Set(rows.map((r) => r.stackId).filter((x): x is string => Boolean(x)))];
  const [deployments, stacks] = await Promise.all([
    deploymentIds.length ? db.deployment.findMany({ where: { id: { in: deploymentIds } }, select: { id: true, name: true } }) : [],
    stackIds.length ? db.stack.findMany({ where: { id: { in: stackIds } }, select: { id: true, name: true } }) : [],
  ]);
  return new Map([...deployments, ...stacks].map((x) => [x.id, x.name]));
}

export function approvalSummary(a: RolloutRow["approval"]): ApprovalSummary | null {
  if (!a) return null;
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

/** Whether "Roll back to this version" can be offered: a succeeded rollout that left a version to go back to. */
export function canRollBackTo(r: Pick<RolloutRow, "status" | "deploymentId" | "stackId" | "digestAfter" | "specAfter" | "versionAfter" | "digests">): boolean {
  if (r.status !== "succeeded") return false;
  if (r.deploymentId) return Boolean(r.digestAfter && r.specAfter);
  const digests = (r.digests ?? {}) as Record<string, { after?: string | null }>;
  return r.versionAfter !== null || Object.values(digests).some((d) => Boolean(d?.after));
}

export function rolloutView(r: RolloutRow, names: Map<string, string>): RolloutView {
  const targetId = (r.deploymentId ?? r.stackId)!;
  return {
    id: r.id,
    hostId: r.hostId,
    hostName: r.host.name,
    target: { kind: r.deploymentId ? "deployment" : "stack", id: targetId, name: names.get(targetId) ?? "(removed)" },
    services: r.services,
    trigger: r.trigger as RolloutTriggerName,
    actor: { type: r.actorType, id: r.actorId, label: r.actorLabel },
    status: r.status as RolloutStatusName,
    imageRef: r.imageRef,
    digestBefore: r.digestBefore,
    digestAfter: r.digestAfter,
    digests: (r.digests ?? {}) as RolloutView["digests"],
    strategy: r.strategy,
    reason: r.reason,
    approvedBy: r.approval?.status === "approved" ? r.approval.decidedLabel : null,
    rollbackOfId: r.rollbackOfId,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
    canRollback: canRollBackTo(r),
  };
}

export function rolloutDetail(r: RolloutRow, names: Map<string, string>): RolloutDetail {
  return {
    ...rolloutView(r, names),
    steps: (r.steps ?? []) as unknown as RolloutDetail["steps"],
    specDiff: (r.specDiff ?? []) as unknown as RolloutDetail["specDiff"],
    verdict: (r.verdict ?? null) as RolloutDetail["verdict"],
    logTail: r.logTail,
    approval: approvalSummary(r.approval),
  };
}

/** One rollout as its detail, or null when there is none the viewer may read. */
export async function readRolloutDetail(db: Db, viewer: Viewer, id: string): Promise<RolloutDetail | null> {
  const row = await db.rollout.findFirst({ where: { AND: [{ id }, readableRollouts(viewer)] }, include: ROLLOUT_INCLUDE });
  if (!row) return null;
  return rolloutDetail(row, await targetNames(db, [row]));
}
