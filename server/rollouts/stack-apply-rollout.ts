import "server-only";
import type { StackModel, StackSource } from "../../lib/compose/model";
import type { PolicyViolation } from "../../lib/policy/check";
import { canOnHost, requireOnHost, type HostRef } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { AuditNote } from "../pipeline/audit-log";
import { applyStack, storedSource } from "../services/stacks/apply-stack";
import { denial, judgeByName, serviceViolation } from "../services/stacks/judge-stack";
import { loadOrRefuse } from "../services/stacks/load-source";
import { runningDigests, versionDiff } from "../services/stacks/stack-timeline";
import { progressKeyOf } from "./live";
import { recoverLeftovers } from "./stack-roll";
import type { RolloutPlan, RolloutRequest, RunContext, RunOutcome } from "./types";

// A stack apply (new files from the console or the API) as a rollout: planned
// when asked (the files load, the project is the stack's, every service
// passes the policy by name), so it can wait for an approver and queue behind
// the stack's other rollouts; run by the worker as the apply always ran
// (compose's converge: changed services recreated, in dependency order).

/** The files to apply, as the request carries them and the Rollout row keeps them (no secret value is in them). */
export interface StackApplySpec {
  source: StackSource;
  removeOrphans: boolean;
}

type Digests = Record<string, { before: string | null; after: string | null }>;

export function applySpecOf(value: unknown): StackApplySpec | null {
  const stack = (value as { stack?: { source?: unknown; removeOrphans?: unknown } } | null)?.stack;
  if (!stack || typeof stack !== "object" || !stack.source || typeof stack.source !== "object") return null;
  return { source: stack.source as StackSource, removeOrphans: stack.removeOrphans === true };
}

async function stackOf(db: Db, stackId: string) {
  const row = await db.stack.findUnique({
    where: { id: stackId },
    select: { id: true, name: true, hostId: true, project: true, currentVersion: true, host: { select: { hostGroupId: true } } },
  });
  if (!row) throw new AppError("NOT_FOUND", "No such stack.");
  return row;
}

async function modelAt(db: Db, stackId: string, version: number): Promise<StackModel | null> {
  if (!version) return null;
  const row = await db.stackVersion.findUnique({ where: { stackId_number: { stackId, number: version } }, select: { model: true } });
  return (row?.model as unknown as StackModel | undefined) ?? null;
}

async function knownDigests(db: Db, stackId: string): Promise<Record<string, string>> {
  const recent = await db.rollout.findMany({ where: { stackId, status: "succeeded" }, orderBy: { createdAt: "desc" }, take: 50, select: { digests: true } });
  const out: Record<string, string> = {};
  for (const r of recent) for (const [name, d] of Object.entries((r.digests ?? {}) as Digests)) if (!out[name] && d?.after) out[name] = d.after;
  return out;
}

export async function planStackApply(db: Db, req: RolloutRequest & { target: { kind: "stack"; stackId: string } }, spec: StackApplySpec): Promise<RolloutPlan> {
  const stack = await stackOf(db, req.target.stackId);
  const host: HostRef = { id: stack.hostId, hostGroupId: stack.host.hostGroupId };
  requireOnHost(req.requester.viewer, "stacks.deploy", host, "You need the stacks.deploy permission on this stack's host.");
  const model = loadOrRefuse(spec.source, stack.name);
  if (model.project !== stack.project) {
    throw new AppError("CONFLICT", `The stack "${stack.name}" runs as the project "${stack.project}"; its files now name "${model.project}". Take it down first to rename its project.`);
  }
  const judged = await judgeByName({ db, viewer: req.requester.viewer, host, override: req.override ?? false, model });
  const refused = denial(judged);
  if (refused) throw refused;
  const overridden: PolicyViolation[] = judged.flatMap((v) => v.verdict.overridden.map((o) => serviceViolation(v.service, o)));
  const before = await modelAt(db, stack.id, stack.currentVersion);
  const specDiff = versionDiff(before, model);
  const services = [...new Set(specDiff.map((c) => c.path.split(".")[1]!))];
  const known = await knownDigests(db, stack.id);
  const digests: Digests = Object.fromEntries(model.services.map((s) => [s.name, { before: known[s.name] ?? null, after: null }]));
  return {
    hostId: stack.hostId,
    hostGroupId: stack.host.hostGroupId,
    stackId: stack.id,
    services,
    imageRef: null,
    digests,
    versionBefore: stack.currentVersion || null,
    specAfter: { stack: { source: storedSource(spec.source), removeOrphans: spec.removeOrphans } },
    specDiff,
    verdict: { allowed: true, violations: [], overridden },
  };
}

const SHOWN: Record<string, "pull" | "create" | "start" | "gate" | "error"> = { pull: "pull", create: "create", start: "start", verify: "gate", error: "error" };

export async function runStackApply(ctx: RunContext, spec: StackApplySpec): Promise<RunOutcome> {
  const r = ctx.rollout;
  const stack = await stackOf(ctx.db, r.stackId!);
  const host: HostRef = { id: stack.hostId, hostGroupId: stack.host.hostGroupId };
  if (!canOnHost(ctx.viewer, "stacks.deploy", host)) return { ok: false, reason: "the requester no longer holds stacks.deploy on the stack's host" };
  // The worker audits the run (rollouts.run); the apply's own note has nowhere to go.
  const audit: AuditNote = {};
  const key = progressKeyOf(r.id);
  const left = await recoverLeftovers(ctx.services.fleet.client(stack.hostId), stack.project).catch(() => [] as string[]);
  for (const line of left) await ctx.step("rollback", `Left by an earlier rollout: ${line}`);
  const result = await applyStack({
    db: ctx.db,
    viewer: ctx.viewer,
    fleet: async () => ctx.services,
    host,
    name: stack.name,
    source: spec.source,
    override: r.override,
    removeOrphans: spec.removeOrphans,
    audit,
    report: (p) => {
      // Each layer's progress only to the console's live view; the steps to the timeline (and the live view).
      if (p.layer) {
        if (key) ctx.services.fleet.reportProgress({ key, ...p });
        return;
      }
      if (p.phase === "done" || !p.message) return;
      void ctx.step(SHOWN[p.phase] ?? "create", p.message, p.service ? { service: p.service } : undefined);
    },
  });
  const after = await modelAt(ctx.db, stack.id, result.version);
  const planned = (r.digests ?? {}) as Digests;
  const digests: Digests = {};
  if (after) {
    const running = await runningDigests(ctx.services.fleet.client(stack.hostId), stack.project, after).catch(() => ({}) as Record<string, string | null>);
    for (const s of after.services) digests[s.name] = { before: planned[s.name]?.before ?? null, after: running[s.name] ?? null };
  }
  const ok = result.result === "applied";
  await ctx.step(ok ? "done" : "error", ok ? `Stack ${stack.name} applied as version ${result.version}` : (result.error ?? "The apply failed"));
  return { ok, reason: ok ? null : result.error, digests, strategy: "recreate", versionAfter: ok ? result.version : null };
}
