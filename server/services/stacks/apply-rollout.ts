import "server-only";
import type { StackSource } from "../../../lib/compose/model";
import type { HostRef, Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { AuditNote } from "../../pipeline/audit-log";
import { actorOf } from "../../pipeline/audit-log";
import { requestRollout, waitForRollout } from "../../rollouts/engine";
import type { StackRolloutRequest } from "../../rollouts/stack-rollout";
import type { FleetAccess } from "../service-deps";
import type { ApplyStackResult } from "./apply-stack";
import { denial, judgeByName } from "./judge-stack";
import { loadOrRefuse, secretNamesOf } from "./load-source";
import { triggerOf } from "./stack-timeline";

// A stack apply from the console or the API goes through the rollout engine
// like every other change: checked at once (the files, the project, the
// policy by name: a refusal creates nothing), then requested as a rollout of
// the stack (a new stack's row is made first, so it has a timeline) — it
// queues behind the stack's other rollouts, or waits for an approver where
// the host's group requires one. The answer waits for the result, as the
// apply always did, or says the apply awaits approval (with the rollout id).

/** How long the request waits for the rollout (queued behind others, then run). */
const APPLY_WAIT_MS = 30 * 60_000;

export type StackApplyAnswer = Omit<ApplyStackResult, "result"> & { result: ApplyStackResult["result"] | "awaitingApproval"; rolloutId: string };

export async function applyStackAsRollout(r: {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
  host: HostRef;
  name: string;
  source: StackSource;
  override: boolean;
  removeOrphans: boolean;
  progressToken?: string;
  audit: AuditNote;
}): Promise<StackApplyAnswer> {
  const model = loadOrRefuse(r.source, r.name);
  r.audit.params = {
    name: r.name,
    project: model.project,
    files: r.source.files.map((f) => f.path),
    services: model.services.map((s) => ({ name: s.name, image: s.spec.image, replicas: s.replicas })),
    secrets: secretNamesOf(model),
    override: r.override,
    removeOrphans: r.removeOrphans,
  };
  const existing = await r.db.stack.findUnique({ where: { hostId_name: { hostId: r.host.id, name: r.name } } });
  if (existing && existing.project !== model.project) {
    throw new AppError("CONFLICT", `The stack "${r.name}" runs as the project "${existing.project}"; its files now name "${model.project}". Take it down first to rename its project.`);
  }
  const clash = await r.db.stack.findFirst({ where: { hostId: r.host.id, project: model.project, NOT: { name: r.name } }, select: { name: true } });
  if (clash) throw new AppError("CONFLICT", `The stack "${clash.name}" on this host already runs as the project "${model.project}".`);
  const refused = denial(await judgeByName({ db: r.db, viewer: r.viewer, host: r.host, override: r.override, model }));
  if (refused) throw refused;

  // Past the checks: the audit intent, then the stack's row (a new one has a timeline from its first apply).
  const services = await r.fleet();
  const stack = existing ?? (await r.db.stack.create({ data: { hostId: r.host.id, name: r.name, project: model.project, status: "applying", updatedById: r.viewer.user.id } }));
  r.audit.target = { type: "stack", id: stack.id };
  const req: StackRolloutRequest = {
    target: { kind: "stack", stackId: stack.id },
    trigger: triggerOf(r.viewer),
    requester: { actor: actorOf(r.viewer), viewer: r.viewer },
    override: r.override,
    progressToken: r.progressToken,
    stack: { source: r.source, removeOrphans: r.removeOrphans },
  };
  let accepted;
  try {
    accepted = await requestRollout({ db: r.db, services }, req);
  } catch (e) {
    // A stack made for this request and refused after all leaves nothing behind.
    if (!existing) await r.db.stack.delete({ where: { id: stack.id } }).catch(() => undefined);
    throw e;
  }
  r.audit.params = { ...(r.audit.params as object), rolloutId: accepted.rolloutId, status: accepted.status };
  if (accepted.status === "awaitingApproval") {
    return { stackId: stack.id, version: stack.currentVersion, result: "awaitingApproval", error: null, rolloutId: accepted.rolloutId };
  }
  const row = await waitForRollout(r.db, accepted.rolloutId, APPLY_WAIT_MS);
  const last = await r.db.stackVersion.findFirst({ where: { stackId: stack.id }, orderBy: { number: "desc" }, select: { number: true } });
  const ok = row.status === "succeeded";
  const error = ok ? null : row.status === "failed" ? (row.reason ?? "the apply failed") : `the apply is ${row.status}${row.reason ? `: ${row.reason}` : ""}`;
  r.audit.params = { ...(r.audit.params as object), result: ok ? "applied" : "failed", version: row.versionAfter, error };
  return { stackId: stack.id, version: row.versionAfter ?? last?.number ?? stack.currentVersion, result: ok ? "applied" : "failed", error, rolloutId: row.id };
}
