import "server-only";
import type { DeploySpec } from "../../../lib/deploy/spec";
import type { Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { FleetServices } from "../../fleet/instance";
import { actorOf } from "../../pipeline/audit-log";
import { requestRollout, waitForRollout } from "../../rollouts/engine";
import { takeError } from "../../rollouts/live";
import type { RolloutStatus, RolloutStep } from "../../rollouts/types";

// The deploy form's and the REST API's update of a deployment: a rollout
// (trigger "form" or "api") that the caller waits for. A rollout that waits
// for an approver is answered at once; one that failed before it touched the
// container (a refused spec, an image that can't be pulled) is answered as
// the error it was, as before rollouts existed.

/** The longest an update call waits for its rollout (pull + gate, with a queued one before it). */
export const UPDATE_WAIT_MS = 10 * 60_000;

export interface UpdateResult {
  rolloutId: string;
  status: RolloutStatus;
  deploymentId: string;
  containerId: string;
  name: string;
  /** The new container failed its health gate (or to start): the old one serves again. */
  rolledBack: boolean;
  /** Why it failed, or what it waits for. */
  message: string | null;
  digestBefore: string | null;
  digestAfter: string | null;
  strategy: string | null;
  overridden: unknown[];
}

export async function updateDeploymentByRollout(o: {
  db: Db;
  services: FleetServices;
  viewer: Viewer;
  hostId: string;
  deploymentId: string;
  spec?: DeploySpec;
  image?: string;
  override: boolean;
  progressToken?: string;
  /** False: answer once it is queued. */
  wait?: boolean;
  waitMs?: number;
}): Promise<UpdateResult> {
  const saved = await o.db.deployment.findUnique({ where: { id: o.deploymentId }, select: { id: true, hostId: true, name: true, containerId: true } });
  if (!saved || saved.hostId !== o.hostId) throw new AppError("NOT_FOUND", "No such deployment on this host.");
  const actor = actorOf(o.viewer);
  const accepted = await requestRollout(
    { db: o.db, services: o.services },
    {
      target: { kind: "deployment", deploymentId: saved.id },
      spec: o.spec,
      image: o.image ?? null,
      trigger: actor.type === "token" ? "api" : "form",
      requester: { actor, viewer: o.viewer },
      override: o.override,
      progressToken: o.progressToken,
    },
  );
  const base = { rolloutId: accepted.rolloutId, deploymentId: saved.id, name: saved.name };
  if (accepted.status === "awaitingApproval" || o.wait === false) {
    return {
      ...base,
      status: accepted.status,
      containerId: saved.containerId ?? "",
      rolledBack: false,
      message: accepted.status === "awaitingApproval" ? "Waiting for an approver: it runs once approved." : "Queued.",
      digestBefore: null,
      digestAfter: null,
      strategy: null,
      overridden: [],
    };
  }
  const row = await waitForRollout(o.db, accepted.rolloutId, o.waitMs ?? UPDATE_WAIT_MS);
  const after = await o.db.deployment.findUnique({ where: { id: saved.id }, select: { containerId: true } });
  const steps = (row.steps as unknown as RolloutStep[]) ?? [];
  if (row.status === "failed") {
    const error = takeError(row.id);
    if (error) throw error;
    // Nothing was created: the running container was never touched.
    if (!steps.some((s) => s.phase === "create")) throw new AppError("PRECONDITION_FAILED", row.reason ?? "The update failed.");
  }
  const verdict = row.verdict as { overridden?: unknown[] } | null;
  return {
    ...base,
    status: row.status as RolloutStatus,
    containerId: after?.containerId ?? saved.containerId ?? "",
    rolledBack: row.status === "failed",
    message: row.status === "succeeded" ? null : row.status === "failed" ? row.reason : `The rollout is ${row.status}.`,
    digestBefore: row.digestBefore,
    digestAfter: row.digestAfter,
    strategy: row.strategy,
    overridden: verdict?.overridden ?? [],
  };
}
