import "server-only";
import type { DeploymentView, Page, RolloutCounts, RolloutView } from "../../lib/rollouts/views";
import type { DeploySpec } from "../../lib/deploy/spec";
import type { Actor } from "../audit/types";
import { canOnHost, hostCoverage, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { FleetServices } from "../fleet/instance";
import type { Prisma } from "../generated/prisma/client";
import { coveredHosts } from "../services/hosts/list-hosts";
import { maskSpecSecrets, openSpecSecrets } from "../services/deploy/secrets";
import { requestRollout } from "./engine";
import type { RolloutAccepted, RolloutStatus, RolloutStep } from "./types";
import { canRollBackTo, readableRollouts, ROLLOUT_INCLUDE, rolloutView, targetNames } from "./views";

// A deployment's or stack's timeline and the fleet's rollouts page: list with
// filters and cursor pages, counts for the navigation, rollback to a chosen
// earlier version (by digest: the tag may have moved) and cancel of one that
// hasn't started.

export interface RolloutFilter {
  status?: RolloutStatus[];
  deploymentId?: string;
  stackId?: string;
  hostId?: string;
  cursor?: string;
  limit: number;
}

function filterWhere(viewer: Viewer, f: Omit<RolloutFilter, "cursor" | "limit">): Prisma.RolloutWhereInput {
  return {
    AND: [
      readableRollouts(viewer),
      {
        ...(f.status?.length ? { status: { in: f.status } } : {}),
        ...(f.deploymentId ? { deploymentId: f.deploymentId } : {}),
        ...(f.stackId ? { stackId: f.stackId } : {}),
        ...(f.hostId ? { hostId: f.hostId } : {}),
      },
    ],
  };
}

/** Newest first; `cursor` is the last id of the previous page. */
export async function listRollouts(db: Db, viewer: Viewer, f: RolloutFilter): Promise<Page<RolloutView>> {
  const where = filterWhere(viewer, f);
  let cursorWhere: Prisma.RolloutWhereInput = {};
  if (f.cursor) {
    const at = await db.rollout.findUnique({ where: { id: f.cursor }, select: { createdAt: true, id: true } });
    if (!at) throw new AppError("BAD_REQUEST", "The cursor names no rollout (start again without it).");
    cursorWhere = { OR: [{ createdAt: { lt: at.createdAt } }, { createdAt: at.createdAt, id: { lt: at.id } }] };
  }
  const rows = await db.rollout.findMany({
    where: { AND: [where, cursorWhere] },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: f.limit + 1,
    include: ROLLOUT_INCLUDE,
  });
  const page = rows.slice(0, f.limit);
  const names = await targetNames(db, page);
  return { items: page.map((r) => rolloutView(r, names)), nextCursor: rows.length > f.limit ? page.at(-1)!.id : null };
}

export async function countRollouts(db: Db, viewer: Viewer): Promise<RolloutCounts> {
  const scope = readableRollouts(viewer);
  const since = new Date(Date.now() - 24 * 3_600_000);
  const count = (where: Prisma.RolloutWhereInput) => db.rollout.count({ where: { AND: [scope, where] } });
  const [running, queued, awaitingApproval, failed] = await Promise.all([
    count({ status: "running" }),
    count({ status: "queued" }),
    count({ status: "awaitingApproval" }),
    count({ status: "failed", finishedAt: { gte: since } }),
  ]);
  return { running, queued, awaitingApproval, failed };
}

/** The rollout, if the viewer may read it (a denial is FORBIDDEN, so it is audited as one). */
export async function readableRollout(db: Db, viewer: Viewer, id: string) {
  const row = await db.rollout.findFirst({ where: { AND: [{ id }, readableRollouts(viewer)] }, include: ROLLOUT_INCLUDE });
  if (row) return row;
  const exists = await db.rollout.findUnique({ where: { id }, select: { deploymentId: true } });
  if (!exists) throw new AppError("NOT_FOUND", "No such rollout.");
  throw new AppError("FORBIDDEN", `Seeing this rollout needs the ${exists.deploymentId ? "containers.read" : "stacks.read"} permission on its host.`);
}

const readable = readableRollout;

/**
 * Rolls back to the version `rolloutId` deployed: a new rollout (trigger
 * "rollback") of that rollout's spec with the image pinned by its digest,
 * through the policy and approvals like any other.
 */
export async function rollBackTo(o: { db: Db; services: FleetServices; viewer: Viewer; actor: Actor; rolloutId: string; progressToken?: string }): Promise<RolloutAccepted & { hostId: string }> {
  const source = await readable(o.db, o.viewer, o.rolloutId);
  if (!canRollBackTo(source)) {
    throw new AppError("PRECONDITION_FAILED", "Only a succeeded rollout that recorded its version (a digest) can be rolled back to.");
  }
  const requester = { actor: o.actor, viewer: o.viewer };
  if (source.deploymentId) {
    const spec = openSpecSecrets(o.services.box, source.specAfter as DeploySpec);
    const accepted = await requestRollout(
      { db: o.db, services: o.services },
      {
        target: { kind: "deployment", deploymentId: source.deploymentId },
        image: source.digestAfter!,
        spec: { ...spec, image: source.digestAfter! },
        trigger: "rollback",
        requester,
        rollbackOfId: source.id,
        progressToken: o.progressToken,
      },
    );
    return { ...accepted, hostId: source.hostId };
  }
  // A stack: its planner takes the version (and per-service digests) from rollbackOfId.
  const accepted = await requestRollout(
    { db: o.db, services: o.services },
    { target: { kind: "stack", stackId: source.stackId!, services: source.services.length ? source.services : undefined }, trigger: "rollback", requester, rollbackOfId: source.id },
  );
  return { ...accepted, hostId: source.hostId };
}

/** Cancels a rollout that hasn't started (queued, or awaiting approval): its requester or an approver on the host. */
export async function cancelRollout(db: Db, viewer: Viewer, id: string): Promise<{ hostId: string; status: string }> {
  const row = await readable(db, viewer, id);
  const host = await db.host.findUnique({ where: { id: row.hostId }, select: { id: true, hostGroupId: true } });
  const mine = row.requestedById === viewer.user.id;
  if (!mine && !(host && canOnHost(viewer, "deploys.approve", host))) {
    throw new AppError("FORBIDDEN", "Only the rollout's requester, or someone holding deploys.approve on its host, can cancel it.");
  }
  const steps = [...((row.steps as unknown as RolloutStep[]) ?? []), { at: new Date().toISOString(), phase: "done", message: `Cancelled by ${viewer.user.email}` }];
  const done = await db.$transaction(async (tx) => {
    const changed = await tx.rollout.updateMany({
      where: { id, status: { in: ["queued", "awaitingApproval"] } },
      data: { status: "cancelled", finishedAt: new Date(), reason: `Cancelled by ${viewer.user.email}`, steps: steps as unknown as Prisma.InputJsonValue },
    });
    if (changed.count > 0) await tx.approvalRequest.updateMany({ where: { rolloutId: id, status: "waiting" }, data: { status: "cancelled" } });
    return changed.count > 0;
  });
  if (!done) throw new AppError("CONFLICT", `The rollout is ${row.status === "running" ? "running" : row.status} and can no longer be cancelled.`);
  return { hostId: row.hostId, status: "cancelled" };
}

// ---- deployments -------------------------------------------------------------

const DEPLOYMENT_SELECT = {
  id: true,
  hostId: true,
  name: true,
  spec: true,
  status: true,
  message: true,
  containerId: true,
  createdAt: true,
  updatedAt: true,
  host: { select: { name: true, hostGroupId: true } },
} satisfies Prisma.DeploymentSelect;

type DeploymentRow = Prisma.DeploymentGetPayload<{ select: typeof DEPLOYMENT_SELECT }>;

async function deploymentViews(db: Db, rows: DeploymentRow[]): Promise<DeploymentView[]> {
  const ids = rows.map((r) => r.id);
  // The newest rollout of each (one query: newest first, the first seen per deployment wins).
  const latest = ids.length
    ? await db.rollout.findMany({ where: { deploymentId: { in: ids } }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], distinct: ["deploymentId"], include: ROLLOUT_INCLUDE })
    : [];
  const names = new Map(rows.map((r) => [r.id, r.name]));
  const byDeployment = new Map(latest.map((r) => [r.deploymentId!, rolloutView(r, names)]));
  return rows.map((r) => ({
    id: r.id,
    hostId: r.hostId,
    hostName: r.host.name,
    name: r.name,
    image: (r.spec as { image?: string }).image ?? "",
    status: r.status,
    message: r.message,
    containerId: r.containerId,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastRollout: byDeployment.get(r.id) ?? null,
  }));
}

export async function listDeploymentViews(db: Db, viewer: Viewer, f: { hostId?: string; cursor?: string; limit: number }): Promise<Page<DeploymentView>> {
  const where: Prisma.DeploymentWhereInput = { host: coveredHosts(hostCoverage(viewer, "containers.read")), ...(f.hostId ? { hostId: f.hostId } : {}) };
  let cursorWhere: Prisma.DeploymentWhereInput = {};
  if (f.cursor) {
    const at = await db.deployment.findUnique({ where: { id: f.cursor }, select: { updatedAt: true, id: true } });
    if (!at) throw new AppError("BAD_REQUEST", "The cursor names no deployment (start again without it).");
    cursorWhere = { OR: [{ updatedAt: { lt: at.updatedAt } }, { updatedAt: at.updatedAt, id: { lt: at.id } }] };
  }
  const rows = await db.deployment.findMany({ where: { AND: [where, cursorWhere] }, orderBy: [{ updatedAt: "desc" }, { id: "desc" }], take: f.limit + 1, select: DEPLOYMENT_SELECT });
  const page = rows.slice(0, f.limit);
  return { items: await deploymentViews(db, page), nextCursor: rows.length > f.limit ? page.at(-1)!.id : null };
}

export async function getDeploymentView(db: Db, viewer: Viewer, id: string): Promise<DeploymentView & { spec: unknown; digest: string | null }> {
  const row = await db.deployment.findUnique({ where: { id }, select: DEPLOYMENT_SELECT });
  if (!row) throw new AppError("NOT_FOUND", "No such deployment.");
  if (!canOnHost(viewer, "containers.read", { id: row.hostId, hostGroupId: row.host.hostGroupId })) {
    throw new AppError("FORBIDDEN", "Seeing this deployment needs the containers.read permission on its host.");
  }
  const [view] = await deploymentViews(db, [row]);
  const lastGood = await db.rollout.findFirst({ where: { deploymentId: id, status: "succeeded" }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { digestAfter: true } });
  return { ...view!, spec: maskSpecSecrets(row.spec as DeploySpec), digest: lastGood?.digestAfter ?? null };
}
