import "server-only";
import type { StackModel, StackService, StackSource } from "../../lib/compose/model";
import { loadStack } from "../../lib/compose/load";
import { renderModel } from "../../lib/compose/render";
import { parseReference } from "../../lib/image-reference";
import type { PolicyViolation } from "../../lib/policy/check";
import { canOnHost, requireOnHost, type HostRef } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { AgentClient } from "../fleet/agent/client";
import type { Rollout } from "../generated/prisma/client";
import { registryAuthHeader } from "../services/registries/registries";
import { resolveSecrets } from "../services/secrets/secrets";
import { denial, judgeByName, serviceViolation, stackJudge } from "../services/stacks/judge-stack";
import { secretNamesOf } from "../services/stacks/load-source";
import { canonicalJson } from "../stacks/config-hash";
import { ensureNetworks, ensureVolumes } from "../stacks/converge";
import { projectContainers } from "../stacks/host-state";
import { pullAndJudgeServices } from "../stacks/pull";
import { serviceBody } from "../stacks/service-body";
import type { RolloutDeps } from "./engine";
import { applySpecOf, planStackApply, runStackApply, type StackApplySpec } from "./stack-apply-rollout";
import { digestFor, digestRef, followedRef, pinnedTo, repositoryOf, rolloutOrder, servicesOfRepository } from "./stack-order";
import { RollFailure, rolloutTag, StackRoll } from "./stack-roll";
import type { RolloutPlan, RolloutRequest, RunContext, RunOutcome, SpecChange } from "./types";

// What the engine calls for a stack target. planStackRollout works out what
// a request changes: for an image ("repo:tag" / "repo@sha256:…"), the
// services of the current version whose image is of that repository; for a
// rollback, the version an earlier rollout deployed, with the digests it
// recorded. runStackRollout pulls every changed image first (nothing stops
// meanwhile), stores a new version whose model pins those images by digest,
// then rolls the services one at a time in dependency order, each through
// the health gate (server/rollouts/stack-roll.ts). A failure puts every
// rolled service back: the stack stays at its version.

type Digests = Record<string, { before: string | null; after: string | null }>;

type StackRow = { id: string; name: string; hostId: string; project: string; currentVersion: number; host: { hostGroupId: string | null } };

async function stackRow(db: Db, stackId: string): Promise<StackRow> {
  const row = await db.stack.findUnique({
    where: { id: stackId },
    select: { id: true, name: true, hostId: true, project: true, currentVersion: true, host: { select: { hostGroupId: true } } },
  });
  if (!row) throw new AppError("NOT_FOUND", "No such stack.");
  return row;
}

async function versionOf(db: Db, stackId: string, number: number) {
  const row = await db.stackVersion.findUnique({ where: { stackId_number: { stackId, number } }, select: { number: true, model: true, source: true } });
  if (!row) throw new AppError("PRECONDITION_FAILED", number === 0 ? "This stack has no applied version yet." : `This stack has no version ${number}.`);
  return { number: row.number, model: row.model as unknown as StackModel, source: row.source as unknown as StackSource };
}

function cloneModel(model: StackModel): StackModel {
  return JSON.parse(JSON.stringify(model)) as StackModel;
}

/** What a rollout rolls to: the model, the services it replaces, and where it came from. */
interface Target {
  model: StackModel;
  source: StackSource;
  /** The services to replace, in dependency order. */
  services: string[];
  /** Services of the current version the target has no more. */
  removed: string[];
  /** A rollback: the version it goes back to. */
  rollbackOf: number | null;
  /** Per service, the digest the target pins (a rollback's recorded "after"). */
  pinned: Record<string, string>;
}

function sameService(a: StackService | undefined, b: StackService | undefined, ma: StackModel, mb: StackModel): boolean {
  if (!a || !b) return false;
  try {
    return a.replicas === b.replicas && canonicalJson({ body: serviceBody(ma, a), secrets: a.secrets }) === canonicalJson({ body: serviceBody(mb, b), secrets: b.secrets });
  } catch {
    return false;
  }
}

/** An image rollout: the current version with the chosen services on `image`. */
function imageTarget(current: { model: StackModel; source: StackSource }, stackName: string, image: string, only: string[]): Target {
  try {
    parseReference(image);
  } catch (e) {
    throw new AppError("BAD_REQUEST", e instanceof Error ? e.message : String(e));
  }
  const repo = repositoryOf(image);
  if (!repo) throw new AppError("BAD_REQUEST", `"${image}" is not an image reference (repo:tag or repo@sha256:…).`);
  let names = servicesOfRepository(current.model.services, image);
  if (only.length) names = names.filter((n) => only.includes(n));
  if (!names.length) {
    throw new AppError("BAD_REQUEST", `no service of stack ${stackName} uses repository ${repo}${only.length ? ` (among ${only.join(", ")})` : ""}`);
  }
  const model = cloneModel(current.model);
  for (const s of model.services) if (names.includes(s.name)) s.spec.image = image;
  return { model, source: current.source, services: rolloutOrder(model.services, names), removed: [], rollbackOf: null, pinned: {} };
}

/**
 * An update (a webhook called with no image, a watch): the tags the stack's
 * files name, pulled again; the services whose tag now points elsewhere roll
 * (the run leaves alone those already running what the tag names).
 */
function updateTarget(current: { model: StackModel; source: StackSource }, stackName: string, only: string[]): Target {
  const loaded = loadStack(current.source, { stackName });
  const files = loaded.ok ? loaded.model : current.model;
  const model = cloneModel(current.model);
  const names: string[] = [];
  for (const s of model.services) {
    if (only.length && !only.includes(s.name)) continue;
    // The tag the files name (or the pinned image's own tag): what an update pulls again.
    const written = followedRef(files.services.find((f) => f.name === s.name)?.spec.image ?? s.spec.image);
    if (written.includes("@") || !repositoryOf(written)) continue;
    s.spec.image = written;
    names.push(s.name);
  }
  if (!names.length) throw new AppError("BAD_REQUEST", `no service of stack ${stackName}${only.length ? ` among ${only.join(", ")}` : ""} follows a tag (each names its image by digest)`);
  return { model, source: current.source, services: rolloutOrder(model.services, names), removed: [], rollbackOf: null, pinned: {} };
}

/**
 * A version again, its images pinned to `digests` where given; the services
 * that differ from the current version (one whose only change is its image
 * pinned to the digest it already runs doesn't).
 */
function versionTarget(current: { model: StackModel }, version: { number: number; model: StackModel; source: StackSource }, digests: Digests, running: Digests): Target {
  const model = cloneModel(version.model);
  const pinned: Record<string, string> = {};
  for (const s of model.services) {
    const after = digests[s.name]?.after;
    if (after) {
      s.spec.image = pinnedTo(s.spec.image, after);
      pinned[s.name] = s.spec.image;
    }
  }
  const changed = model.services
    .filter((s) => {
      const now = current.model.services.find((c) => c.name === s.name);
      if (sameService(s, now, model, current.model)) return false;
      const runs = running[s.name]?.before;
      return !(now && pinned[s.name] && runs && digestRef(pinned[s.name]!) === digestRef(runs) && sameService({ ...s, spec: { ...s.spec, image: now.spec.image } }, now, model, current.model));
    })
    .map((s) => s.name);
  const removed = current.model.services.filter((c) => !model.services.some((s) => s.name === c.name)).map((s) => s.name);
  return { model, source: version.source, services: rolloutOrder(model.services, changed), removed, rollbackOf: version.number, pinned };
}

/** The rollout a rollback goes back to: one of this stack's that succeeded and recorded its version. */
async function rollbackSource(db: Db, stackId: string, rolloutId: string) {
  const r = await db.rollout.findUnique({ where: { id: rolloutId }, select: { stackId: true, status: true, versionAfter: true, digests: true } });
  if (!r || r.stackId !== stackId) throw new AppError("NOT_FOUND", "That rollout is not one of this stack's.");
  if (r.status !== "succeeded" || !r.versionAfter) throw new AppError("PRECONDITION_FAILED", "Only a rollout that succeeded can be rolled back to.");
  return { version: r.versionAfter, digests: (r.digests ?? {}) as Digests };
}

/**
 * A stack request may name, instead of an image or an earlier rollout, an
 * earlier version to go back to (the stack's "roll back to version N" of a
 * version no rollout recorded). The engine hands the request through as is.
 */
export type StackRolloutRequest = RolloutRequest & { target: { kind: "stack" }; stack?: { version?: number } & Partial<StackApplySpec> };

function stackExtra(req: unknown): { version?: number } | null {
  const stack = (req as { stack?: unknown }).stack;
  return stack && typeof stack === "object" ? (stack as { version?: number }) : null;
}

async function targetFor(db: Db, stack: StackRow, current: { number: number; model: StackModel; source: StackSource }, req: { image?: string | null; rollbackOfId?: string | null; services: string[]; version?: number | null }): Promise<Target> {
  if (req.rollbackOfId) {
    const back = await rollbackSource(db, stack.id, req.rollbackOfId);
    return versionTarget(current, await versionOf(db, stack.id, back.version), back.digests, await knownDigests(db, stack.id, current.model, current.model.services.map((s) => s.name)));
  }
  if (req.version) {
    const running = await knownDigests(db, stack.id, current.model, current.model.services.map((s) => s.name));
    return versionTarget(current, await versionOf(db, stack.id, req.version), await recordedDigests(db, stack.id, req.version), running);
  }
  if (!req.image) return updateTarget(current, stack.name, req.services);
  return imageTarget(current, stack.name, req.image, req.services);
}

/** The digests the rollout that made `version` recorded (none for a version from before rollouts). */
async function recordedDigests(db: Db, stackId: string, version: number): Promise<Digests> {
  const r = await db.rollout.findFirst({ where: { stackId, versionAfter: version, status: "succeeded" }, orderBy: { createdAt: "desc" }, select: { digests: true } });
  return (r?.digests ?? {}) as Digests;
}

/** The digests the stack's services last ran at, as recorded (a pinned image is its own digest). */
async function knownDigests(db: Db, stackId: string, model: StackModel, services: string[]): Promise<Digests> {
  // The newest digest recorded per service, over the stack's recent rollouts (an image rollout records only its services).
  const recent = await db.rollout.findMany({ where: { stackId, status: "succeeded" }, orderBy: { createdAt: "desc" }, take: 50, select: { digests: true } });
  const recorded: Digests = {};
  for (const r of recent) for (const [name, d] of Object.entries((r.digests ?? {}) as Digests)) if (!recorded[name] && d?.after) recorded[name] = d;
  const out: Digests = {};
  for (const name of services) {
    const s = model.services.find((x) => x.name === name);
    const pinned = s ? digestRef(s.spec.image) : null;
    out[name] = { before: pinned ?? recorded[name]?.after ?? null, after: null };
  }
  return out;
}

function diffOf(current: StackModel, target: Target): SpecChange[] {
  const changes: SpecChange[] = [];
  for (const name of target.services) {
    const before = current.services.find((s) => s.name === name);
    const after = target.model.services.find((s) => s.name === name)!;
    if (!before) {
      changes.push({ path: `services.${name}`, before: null, after: after.spec.image });
      continue;
    }
    if (before.spec.image !== after.spec.image) changes.push({ path: `services.${name}.image`, before: before.spec.image, after: after.spec.image });
    if (before.replicas !== after.replicas) changes.push({ path: `services.${name}.replicas`, before: before.replicas, after: after.replicas });
    if (before.spec.image === after.spec.image && before.replicas === after.replicas) changes.push({ path: `services.${name}`, before: "configuration", after: "changed" });
  }
  for (const name of target.removed) changes.push({ path: `services.${name}`, before: current.services.find((s) => s.name === name)?.spec.image ?? null, after: null });
  return changes;
}

/** Deps for planning alone: a plan reads the database, never a host (so no fleet, and no audit intent, is needed). */
export function planOnly(db: Db): RolloutDeps {
  return {
    db,
    get services(): RolloutDeps["services"] {
      throw new Error("planning a stack rollout asks no host");
    },
  };
}

export async function planStackRollout(deps: RolloutDeps, req: RolloutRequest & { target: { kind: "stack" } }): Promise<RolloutPlan> {
  // New files (a stack apply), rather than an image or a version.
  const apply = applySpecOf(req);
  if (apply) return planStackApply(deps.db, req, apply);
  const stack = await stackRow(deps.db, req.target.stackId);
  const host: HostRef = { id: stack.hostId, hostGroupId: stack.host.hostGroupId };
  requireOnHost(req.requester.viewer, "stacks.deploy", host, "You need the stacks.deploy permission on this stack's host.");
  const current = await versionOf(deps.db, stack.id, stack.currentVersion);
  const target = await targetFor(deps.db, stack, current, { image: req.image, rollbackOfId: req.rollbackOfId, services: req.target.services ?? [], version: stackExtra(req)?.version });
  // Every service that changes through the policy gate, by name, before anything is queued.
  const judged = await judgeByName({
    db: deps.db,
    viewer: req.requester.viewer,
    host,
    override: req.override ?? false,
    model: { ...target.model, services: target.model.services.filter((s) => target.services.includes(s.name)) },
  });
  const refused = denial(judged);
  if (refused) throw refused;
  const overridden: PolicyViolation[] = judged.flatMap((v) => v.verdict.overridden.map((o) => serviceViolation(v.service, o)));
  const digests = await knownDigests(deps.db, stack.id, current.model, target.services);
  for (const [name, pin] of Object.entries(target.pinned)) if (digests[name]) digests[name].after = digestRef(pin);
  const version = stackExtra(req)?.version;
  return {
    // What the run goes back to when no rollout recorded it (the row keeps it; no secret is in it).
    ...(version && !req.rollbackOfId ? { specAfter: { stack: { version } } } : {}),
    hostId: stack.hostId,
    hostGroupId: stack.host.hostGroupId,
    stackId: stack.id,
    services: target.services,
    imageRef: req.image ?? null,
    digests,
    versionBefore: stack.currentVersion,
    specDiff: diffOf(current.model, target),
    verdict: { allowed: true, violations: [], overridden },
  };
}

/** The digest (familiar repo@sha256:…) a container runs, as its image's RepoDigests say. */
async function runningDigest(client: AgentClient, containerId: string, image: string): Promise<string | null> {
  try {
    const c = await client.inspectContainer(containerId);
    const img = (await client.inspectImage(c.Image)) as { RepoDigests?: string[] | null } | null;
    return digestFor(image, img?.RepoDigests);
  } catch {
    return null;
  }
}

async function imageDigest(client: AgentClient, image: string): Promise<string | null> {
  const pinned = digestRef(image);
  if (pinned) return pinned;
  const img = (await client.inspectImage(image)) as { RepoDigests?: string[] | null } | null;
  return digestFor(image, img?.RepoDigests);
}

function strategyText(strategies: Record<string, string>): string | null {
  const distinct = [...new Set(Object.values(strategies))];
  if (distinct.length === 0) return null;
  if (distinct.length === 1) return distinct[0]!;
  return Object.entries(strategies)
    .map(([s, how]) => `${s}: ${how}`)
    .join(", ");
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The request a claimed row stands for (what planStackRollout was asked). */
function requestOf(r: Rollout): { image: string | null; rollbackOfId: string | null; services: string[]; version: number | null } {
  const extra = (r.specAfter as { stack?: { version?: number } } | null)?.stack;
  return { image: r.imageRef, rollbackOfId: r.rollbackOfId, services: r.services, version: typeof extra?.version === "number" ? extra.version : null };
}

export async function runStackRollout(ctx: RunContext): Promise<RunOutcome> {
  const r = ctx.rollout;
  if (!r.stackId) return { ok: false, reason: "the rollout names no stack" };
  const apply = applySpecOf(r.specAfter);
  if (apply) return runStackApply(ctx, apply);
  const row = await ctx.db.stack.findUnique({
    where: { id: r.stackId },
    select: { id: true, name: true, hostId: true, project: true, currentVersion: true, host: { select: { hostGroupId: true } } },
  });
  if (!row) return { ok: false, reason: "the stack no longer exists" };
  const stack: StackRow = row;
  const host: HostRef = { id: stack.hostId, hostGroupId: stack.host.hostGroupId };
  // The requester's rights as they are now: fail closed.
  if (!canOnHost(ctx.viewer, "stacks.deploy", host)) return { ok: false, reason: "the requester no longer holds stacks.deploy on the stack's host" };

  let target: Target;
  let current: Awaited<ReturnType<typeof versionOf>>;
  try {
    current = await versionOf(ctx.db, stack.id, stack.currentVersion);
    target = await targetFor(ctx.db, stack, current, requestOf(r));
  } catch (e) {
    return { ok: false, reason: message(e) };
  }
  const { fleet, box } = ctx.services;
  const client = fleet.client(stack.hostId);
  const changed = target.model.services.filter((s) => target.services.includes(s.name));
  const digests: Digests = {};

  // Before: what each service runs now, from the host.
  const containers = await projectContainers(client, stack.project);
  for (const s of changed) {
    const first = containers.find((c) => c.service === s.name && c.state === "running") ?? containers.find((c) => c.service === s.name);
    digests[s.name] = { before: first ? await runningDigest(client, first.id, s.spec.image) : null, after: null };
  }

  // 1. Pull (and judge the pulled images): the old containers serve meanwhile.
  let confinement: Map<string, import("../../lib/confinement").Confinement>;
  let secrets: Awaited<ReturnType<typeof resolveSecrets>>;
  try {
    const { judge } = await stackJudge({ db: ctx.db, viewer: ctx.viewer, host, override: r.override });
    await ensureNetworks(client, target.model, (p) => void ctx.step("create", p.message));
    await ensureVolumes(client, target.model, (p) => void ctx.step("create", p.message));
    const verdicts = await pullAndJudgeServices({
      client,
      // A tag is pulled again (it may have moved); a digest only when the host lacks it.
      services: changed.map((s) => ({ ...s, spec: { ...s.spec, pullPolicy: s.spec.image.includes("@") ? "missing" : "always" } })),
      judge,
      registryAuth: async (s) => (s.spec.registryId ? (await registryAuthHeader(ctx.db, box, s.spec.registryId, s.spec.image))?.header : undefined),
      report: (p) => {
        if (!p.layer && p.message && /^(Pulling|Using) /.test(p.message)) void ctx.step("pull", `${p.service ? `${p.service}: ` : ""}${p.message}`, p.service ? { service: p.service } : undefined);
      },
    });
    confinement = new Map([...verdicts].map(([name, v]) => [name, v.confinement]));
    secrets = await resolveSecrets(ctx.db, box, secretNamesOf({ ...target.model, services: changed }));
  } catch (e) {
    await ctx.step("error", message(e));
    return { ok: false, reason: message(e), digests };
  }

  // 2. Pin each changed service to the digest pulled; one already running it has nothing to roll.
  for (const s of changed) {
    const digest = await imageDigest(client, s.spec.image).catch(() => null);
    if (digest) s.spec.image = pinnedTo(s.spec.image, digest);
    digests[s.name]!.after = digest;
  }
  const rolling = target.services.filter((name) => {
    const d = digests[name]!;
    const before = current.model.services.find((s) => s.name === name);
    const after = target.model.services.find((s) => s.name === name)!;
    // Only the image changed, and to what the service already runs: nothing to do.
    const imageOnly = before && sameService(before, { ...after, spec: { ...after.spec, image: before.spec.image } }, current.model, target.model);
    return !(imageOnly && d.before && d.after && d.before === d.after);
  });
  for (const name of target.services) if (!rolling.includes(name)) delete digests[name];
  if (rolling.length === 0 && target.removed.length === 0) {
    await ctx.step("done", `Nothing to roll: ${target.services.join(", ")} already run${target.services.length === 1 ? "s" : ""} that image`);
    return { ok: true, digests: {}, versionAfter: stack.currentVersion };
  }

  // 3. The new version, pending, its changed images pinned by digest.
  const last = await ctx.db.stackVersion.findFirst({ where: { stackId: stack.id }, orderBy: { number: "desc" }, select: { number: true } });
  const number = (last?.number ?? 0) + 1;
  await ctx.db.stackVersion.create({
    data: {
      stackId: stack.id,
      number,
      source: target.source as object,
      model: target.model as unknown as object,
      rendered: renderModel(target.model),
      secretNames: secretNamesOf(target.model),
      createdById: r.requestedById ?? null,
      result: "pending",
      override: r.override,
      rollbackOf: target.rollbackOf,
    },
  });
  await ctx.db.stack.update({ where: { id: stack.id }, data: { status: "applying" } });
  await ctx.step("create", `Version ${number}: ${rolling.map((n) => `${n} → ${target.model.services.find((s) => s.name === n)!.spec.image}`).join(", ") || "services removed"}`);

  // 4. One service at a time, in dependency order, each replica through the gate.
  const roll = new StackRoll({
    client,
    stackId: stack.id,
    model: target.model,
    services: rolling,
    removeServices: target.removed,
    confinement,
    secrets: new Map([...secrets].map(([n, s]) => [n, { revision: s.revision, value: s.value }])),
    tag: rolloutTag(),
    step: ctx.step,
    signal: ctx.signal,
  });
  let failure: { reason: string; logTail: string | null } | null = null;
  try {
    await roll.run();
  } catch (e) {
    failure = e instanceof RollFailure ? { reason: e.reason, logTail: e.logTail } : { reason: message(e), logTail: null };
    await ctx.step("error", failure.reason);
    const problems = await roll.undo();
    if (problems.length) failure.reason += `; putting the old containers back failed for ${problems.join("; ")}`;
    else await ctx.step("rollback", `Every service is back on version ${stack.currentVersion}`);
  }
  if (failure) {
    await ctx.db.stackVersion.update({ where: { stackId_number: { stackId: stack.id, number } }, data: { result: "failed", error: failure.reason } });
    await ctx.db.stack.update({ where: { id: stack.id }, data: { status: "applied", lastError: failure.reason } });
    return { ok: false, reason: failure.reason, logTail: failure.logTail, digests, strategy: strategyText(roll.strategiesSoFar), versionAfter: null };
  }
  await roll.commit();
  await ctx.db.stackVersion.update({ where: { stackId_number: { stackId: stack.id, number } }, data: { result: "applied", error: null } });
  await ctx.db.stack.update({ where: { id: stack.id }, data: { status: "applied", currentVersion: number, lastError: null, updatedById: r.requestedById ?? undefined } });
  await ctx.step("done", `Stack ${stack.name} is at version ${number}`);
  return { ok: true, digests, strategy: strategyText(roll.strategiesSoFar), versionAfter: number };
}
