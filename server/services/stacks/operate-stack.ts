import "server-only";
import type { StackModel, StackSource } from "../../../lib/compose/model";
import { mayOverridePolicy } from "../../policy/gate";
import type { HostRef, Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { AuditNote } from "../../pipeline/audit-log";
import { convergeStack, downStack } from "../../stacks/converge";
import { projectContainers } from "../../stacks/host-state";
import { loadStack } from "../../../lib/compose/load";
import { resolveSecrets } from "../secrets/secrets";
import type { FleetAccess } from "../service-deps";
import type { StackApplyAnswer } from "./apply-rollout";
import { actorOf } from "../../pipeline/audit-log";
import { requestRollout, waitForRollout } from "../../rollouts/engine";
import { planOnly, planStackRollout, type StackRolloutRequest } from "../../rollouts/stack-rollout";

/** How long a roll back request waits for its rollout (queued behind others, then run). */
const ROLLBACK_WAIT_MS = 30 * 60_000;
import { judgeByName } from "./judge-stack";
import { secretNamesOf } from "./load-source";
import { stackFor } from "./view-stacks";

// What is done to a stack once it exists: take it down, roll it back, act on
// one service's containers, scale a service; and the check the editor asks
// for as you type (problems and the policy's verdict, nothing changed).

interface Deps {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
  audit: AuditNote;
}

function hostOf(row: { hostId: string; host: { hostGroupId: string | null } }): HostRef {
  return { id: row.hostId, hostGroupId: row.host.hostGroupId };
}

export async function takeStackDown(o: Deps & { stackId: string; volumes: boolean }): Promise<{ removed: number }> {
  const s = await stackFor(o.db, o.viewer, o.stackId, "stacks.delete");
  o.audit.hostId = s.hostId;
  o.audit.target = { type: "stack", id: s.id };
  o.audit.params = { stackId: s.id, name: s.name, project: s.project, volumes: o.volumes };
  const { fleet } = await o.fleet();
  const result = await downStack({ client: fleet.client(s.hostId), project: s.project, volumes: o.volumes, report: () => undefined });
  await o.db.stack.update({ where: { id: s.id }, data: { status: "down", lastError: null, updatedById: o.viewer.user.id } });
  o.audit.params = { stackId: s.id, name: s.name, project: s.project, volumes: o.volumes, removed: result.removed };
  return result;
}

/**
 * Rolls back to an earlier version, as a rollout (trigger "rollback") on the
 * stack's timeline: the version's services with the images it ran, by digest
 * (the digests its rollout recorded; a tag may have moved since), each
 * changed service replaced through the health gate, a new version that says
 * which one it rolls back to. A service failing the gate puts the others
 * back: the stack stays where it was.
 */
export async function rollbackStack(o: Deps & { stackId: string; version: number; progressToken?: string }): Promise<StackApplyAnswer> {
  const s = await stackFor(o.db, o.viewer, o.stackId, "stacks.deploy");
  o.audit.hostId = s.hostId;
  o.audit.target = { type: "stack", id: s.id };
  o.audit.params = { stackId: s.id, name: s.name, version: o.version };
  const row = await o.db.stackVersion.findUnique({ where: { stackId_number: { stackId: s.id, number: o.version } }, select: { number: true } });
  if (!row) throw new AppError("NOT_FOUND", `This stack has no version ${o.version}.`);
  // The rollout that made that version (its digests), else the version as it was stored.
  const made = await o.db.rollout.findFirst({ where: { stackId: s.id, versionAfter: o.version, status: "succeeded" }, orderBy: { createdAt: "desc" }, select: { id: true } });
  const req: StackRolloutRequest = {
    target: { kind: "stack", stackId: s.id },
    trigger: "rollback",
    requester: { actor: actorOf(o.viewer), viewer: o.viewer },
    rollbackOfId: made?.id ?? null,
    ...(made ? {} : { stack: { version: o.version } }),
    progressToken: o.progressToken,
  };
  // Planned (and judged) first; the audit intent once it is allowed.
  await planStackRollout(planOnly(o.db), req);
  const accepted = await requestRollout({ db: o.db, services: await o.fleet() }, req);
  o.audit.params = { stackId: s.id, name: s.name, version: o.version, rolloutId: accepted.rolloutId, status: accepted.status };
  if (accepted.status === "awaitingApproval") return { stackId: s.id, version: s.currentVersion, result: "awaitingApproval", error: null, rolloutId: accepted.rolloutId };
  const rollout = await waitForRollout(o.db, accepted.rolloutId, ROLLBACK_WAIT_MS);
  const last = await o.db.stackVersion.findFirst({ where: { stackId: s.id }, orderBy: { number: "desc" }, select: { number: true } });
  const ok = rollout.status === "succeeded";
  const error = ok ? null : rollout.status === "failed" ? (rollout.reason ?? "the roll back failed") : `the roll back is ${rollout.status}${rollout.reason ? `: ${rollout.reason}` : ""}`;
  o.audit.params = { stackId: s.id, name: s.name, version: o.version, rolloutId: rollout.id, result: ok ? "applied" : "failed", error, newVersion: rollout.versionAfter };
  return { stackId: s.id, version: rollout.versionAfter ?? last?.number ?? s.currentVersion, result: ok ? "applied" : "failed", error, rolloutId: rollout.id };
}

async function currentModel(db: Db, stackId: string, version: number): Promise<StackModel> {
  const row = await db.stackVersion.findUnique({ where: { stackId_number: { stackId, number: version } }, select: { model: true } });
  if (!row) throw new AppError("PRECONDITION_FAILED", "This stack has no applied version yet.");
  return row.model as unknown as StackModel;
}

function serviceOf(model: StackModel, name: string) {
  const s = model.services.find((x) => x.name === name);
  if (!s) throw new AppError("NOT_FOUND", `The stack has no service "${name}".`);
  return s;
}

export async function runServiceAction(o: Deps & { stackId: string; service: string; action: "start" | "stop" | "restart" }): Promise<{ containers: number }> {
  const s = await stackFor(o.db, o.viewer, o.stackId, "stacks.control");
  o.audit.hostId = s.hostId;
  o.audit.target = { type: "stack", id: s.id };
  o.audit.params = { stackId: s.id, name: s.name, service: o.service, action: o.action };
  serviceOf(await currentModel(o.db, s.id, s.currentVersion), o.service);
  const { fleet } = await o.fleet();
  const client = fleet.client(s.hostId);
  const containers = (await projectContainers(client, s.project)).filter((c) => c.service === o.service);
  await Promise.all(
    containers.map((c) =>
      o.action === "start" ? client.startContainer(c.id) : o.action === "stop" ? client.stopContainer(c.id, { timeoutSeconds: 10 }) : client.restartContainer(c.id),
    ),
  );
  return { containers: containers.length };
}

/** Adds or removes replicas (by container number) from the current version's configuration, judged by the policy again. */
export async function scaleService(o: Deps & { stackId: string; service: string; replicas: number }): Promise<{ replicas: number }> {
  const s = await stackFor(o.db, o.viewer, o.stackId, "stacks.control");
  o.audit.hostId = s.hostId;
  o.audit.target = { type: "stack", id: s.id };
  o.audit.params = { stackId: s.id, name: s.name, service: o.service, replicas: o.replicas };
  const model = await currentModel(o.db, s.id, s.currentVersion);
  const service = serviceOf(model, o.service);
  const scaled: StackModel = { ...model, services: model.services.map((x) => (x.name === o.service ? { ...x, replicas: o.replicas } : x)) };
  const verdicts = await judgeByName({ db: o.db, viewer: o.viewer, host: hostOf(s), override: false, model: { ...scaled, services: [service] } });
  const denied = verdicts.find((v) => !v.verdict.allowed);
  if (denied) throw new AppError("FORBIDDEN", `Service "${o.service}" is denied by the deploy policy: ${denied.verdict.violations.map((v) => `rule "${v.label}" on ${v.field}`).join("; ")}.`, { details: { policyViolations: denied.verdict.violations } });
  const { fleet, box } = await o.fleet();
  const secrets = await resolveSecrets(o.db, box, secretNamesOf({ ...model, services: [service] }));
  await convergeStack({
    client: fleet.client(s.hostId),
    stackId: s.id,
    model: scaled,
    confinement: new Map(verdicts.map((v) => [v.service, v.verdict.confinement])),
    secrets: new Map([...secrets].map(([n, x]) => [n, { revision: x.revision, value: x.value }])),
    removeOrphans: false,
    report: () => undefined,
    only: [o.service],
  });
  return { replicas: o.replicas };
}

/** The editor's check: the loader's problems, then each service's verdict. Nothing changes and nothing is audited. */
export async function checkStack(o: { db: Db; viewer: Viewer; host: HostRef; name: string; source: StackSource }) {
  const mayOverride = mayOverridePolicy(o.viewer, o.host);
  const loaded = loadStack(o.source, { stackName: o.name });
  if (!loaded.ok) return { problems: loaded.problems, services: [], mayOverride };
  const verdicts = await judgeByName({ db: o.db, viewer: o.viewer, host: o.host, override: false, model: loaded.model });
  return {
    problems: [],
    services: verdicts.map((v) => ({
      name: v.service,
      image: v.image,
      allowed: v.verdict.allowed,
      violations: v.verdict.violations.map((x) => ({ rule: x.rule as string, field: x.field, message: x.message })),
    })),
    mayOverride,
  };
}
