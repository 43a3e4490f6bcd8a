import "server-only";
import type { StackModel } from "../../../lib/compose/model";
import type { Actor } from "../../audit/types";
import type { Viewer } from "../../auth/access";
import type { Db } from "../../db";
import type { AgentClient } from "../../fleet/agent/client";
import { actorOf } from "../../pipeline/audit-log";
import { digestFor } from "../../rollouts/stack-order";
import type { RolloutStep, RolloutTrigger, SpecChange } from "../../rollouts/types";
import { projectContainers } from "../../stacks/host-state";
import type { FleetAccess } from "../service-deps";
import type { ApplyStackResult } from "./apply-stack";

// Every stack has a timeline of rollouts (the Rollouts page, the stack's
// history): an apply of its files from the console or the API is one too,
// recorded with the versions before and after, the digest each service runs
// after it, and what changed. Written once the apply has run (it runs in the
// request, as before); a refusal before anything was done records nothing
// (the audit log has it).

type Digests = Record<string, { before: string | null; after: string | null }>;

/** "form" from the console, "api" for an API token. */
export function triggerOf(viewer: Viewer): RolloutTrigger {
  return actorOf(viewer).type === "token" ? "api" : "form";
}

async function modelOf(db: Db, stackId: string, version: number | null): Promise<StackModel | null> {
  if (!version) return null;
  const row = await db.stackVersion.findUnique({ where: { stackId_number: { stackId, number: version } }, select: { model: true } });
  return (row?.model as unknown as StackModel | undefined) ?? null;
}

/** What an apply changed, service by service (image, replicas, anything else). */
export function versionDiff(before: StackModel | null, after: StackModel | null): SpecChange[] {
  const out: SpecChange[] = [];
  const was = new Map((before?.services ?? []).map((s) => [s.name, s]));
  for (const s of after?.services ?? []) {
    const b = was.get(s.name);
    if (!b) out.push({ path: `services.${s.name}`, before: null, after: s.spec.image });
    else {
      if (b.spec.image !== s.spec.image) out.push({ path: `services.${s.name}.image`, before: b.spec.image, after: s.spec.image });
      if (b.replicas !== s.replicas) out.push({ path: `services.${s.name}.replicas`, before: b.replicas, after: s.replicas });
      const rest = (x: typeof s) => JSON.stringify({ ...x, spec: { ...x.spec, image: "" }, replicas: 0 });
      if (rest(b) !== rest(s)) out.push({ path: `services.${s.name}`, before: "configuration", after: "changed" });
    }
    was.delete(s.name);
  }
  for (const [name, b] of was) out.push({ path: `services.${name}`, before: b.spec.image, after: null });
  return out;
}

/** The digest each service's first container runs (familiar repo@sha256:…), from the host. */
export async function runningDigests(client: AgentClient, project: string, model: StackModel): Promise<Record<string, string | null>> {
  const containers = await projectContainers(client, project);
  const out: Record<string, string | null> = {};
  for (const s of model.services) {
    const c = containers.find((x) => x.service === s.name && x.state === "running") ?? containers.find((x) => x.service === s.name);
    if (!c) {
      out[s.name] = null;
      continue;
    }
    try {
      const inspect = await client.inspectContainer(c.id);
      const image = (await client.inspectImage(inspect.Image)) as { RepoDigests?: string[] | null } | null;
      out[s.name] = digestFor(s.spec.image, image?.RepoDigests);
    } catch {
      out[s.name] = null;
    }
  }
  return out;
}

/** The digests the stack's services ran at, as its recorded rollouts say (newest first). */
async function recordedDigests(db: Db, stackId: string): Promise<Record<string, string>> {
  const recent = await db.rollout.findMany({ where: { stackId, status: "succeeded" }, orderBy: { createdAt: "desc" }, take: 50, select: { digests: true } });
  const out: Record<string, string> = {};
  for (const r of recent) for (const [name, d] of Object.entries((r.digests ?? {}) as Digests)) if (!out[name] && d?.after) out[name] = d.after;
  return out;
}

/**
 * Runs an apply (or anything that makes a new stack version the way an apply
 * does) and records it on the stack's timeline. A refusal (thrown) records
 * nothing; an apply that ran records "succeeded" or "failed".
 */
export async function recordedApply(o: {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
  hostId: string;
  name: string;
  trigger: RolloutTrigger;
  actor?: Actor;
  run: () => Promise<ApplyStackResult>;
}): Promise<ApplyStackResult & { rolloutId: string }> {
  const startedAt = new Date();
  const existing = await o.db.stack.findUnique({ where: { hostId_name: { hostId: o.hostId, name: o.name } }, select: { id: true, currentVersion: true } });
  const versionBefore = existing?.currentVersion || null;
  const result = await o.run();
  const [before, after] = await Promise.all([modelOf(o.db, result.stackId, versionBefore), modelOf(o.db, result.stackId, result.version)]);
  const known = existing ? await recordedDigests(o.db, existing.id) : {};
  let running: Record<string, string | null> = {};
  const stack = await o.db.stack.findUnique({ where: { id: result.stackId }, select: { project: true } });
  if (after && stack) {
    try {
      const { fleet } = await o.fleet();
      running = await runningDigests(fleet.client(o.hostId), stack.project, after);
    } catch {
      // The host went away after the apply: the digests stay unknown.
    }
  }
  const digests: Digests = {};
  for (const s of after?.services ?? []) digests[s.name] = { before: before?.services.some((b) => b.name === s.name) ? (known[s.name] ?? null) : null, after: running[s.name] ?? null };
  const specDiff = versionDiff(before, after);
  const actor = o.actor ?? actorOf(o.viewer);
  const ok = result.result === "applied";
  const finishedAt = new Date();
  const steps: RolloutStep[] = [
    { at: startedAt.toISOString(), phase: "queued", message: `Requested (${o.trigger}${actor.label ? ` by ${actor.label}` : ""})` },
    { at: finishedAt.toISOString(), phase: ok ? "done" : "error", message: ok ? `Stack ${o.name} applied as version ${result.version}` : (result.error ?? "The apply failed") },
  ];
  const row = await o.db.rollout.create({
    data: {
      hostId: o.hostId,
      stackId: result.stackId,
      services: [...new Set(specDiff.map((c) => c.path.split(".")[1]!))],
      trigger: o.trigger,
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorLabel: actor.label ?? null,
      requestedById: o.viewer.user.id,
      status: ok ? "succeeded" : "failed",
      digests: digests as object,
      versionBefore,
      versionAfter: ok ? result.version : null,
      specDiff: specDiff as unknown as object,
      reason: ok ? null : result.error,
      strategy: "recreate",
      steps: steps as unknown as object,
      createdAt: startedAt,
      startedAt,
      finishedAt,
    },
  });
  return { ...result, rolloutId: row.id };
}
