import "server-only";
import type { Viewer } from "../auth/access";
import type { Db } from "../db";
import type { FleetServices } from "../fleet/instance";
import type { Rollout } from "../generated/prisma/client";
import { planStackRollout, runStackRollout, type StackRolloutRequest } from "./stack-rollout";
import type { RolloutPlan, RolloutRequest, RolloutStatus, RolloutStep, RunContext, RunOutcome } from "./types";

// Writing a stack's rollouts to its timeline: the row a request becomes, the
// steps as they happen, the outcome. The engine's worker does the same for
// the rollouts it claims; these are what a stack apply (which runs at once,
// in the request) and a direct run use, and what the engine may reuse.

/** Steps kept per rollout (a long rollout keeps its first and latest ones). */
const MAX_STEPS = 400;

/** The Rollout row for a planned request. */
export async function writeRollout(db: Db, plan: RolloutPlan, req: RolloutRequest, status: RolloutStatus): Promise<Rollout> {
  const now = new Date();
  return db.rollout.create({
    data: {
      hostId: plan.hostId,
      deploymentId: plan.deploymentId ?? null,
      stackId: plan.stackId ?? null,
      services: plan.services ?? [],
      trigger: req.trigger,
      actorType: req.requester.actor.type,
      actorId: req.requester.actor.id ?? null,
      actorLabel: req.requester.actor.label ?? null,
      requestedById: req.requester.viewer.user.id,
      webhookId: req.requester.webhookId ?? null,
      status,
      imageRef: plan.imageRef ?? null,
      digests: (plan.digests ?? {}) as object,
      versionBefore: plan.versionBefore ?? null,
      specDiff: plan.specDiff as object,
      verdict: (plan.verdict ?? undefined) as object | undefined,
      override: req.override ?? false,
      rollbackOfId: req.rollbackOfId ?? null,
      ...(plan.specAfter !== undefined ? { specAfter: plan.specAfter as object } : {}),
      ...(status === "running" ? { startedAt: now } : {}),
      steps: [{ at: now.toISOString(), phase: "queued", message: `Requested (${req.trigger})` }] as object,
    },
  });
}

/** Appends one step to the row (bounded), and to the console's live progress when a key is given. */
export function stepWriter(o: { db: Db; services: FleetServices; rolloutId: string; progressKey?: string; service?: string }): RunContext["step"] {
  let chain = Promise.resolve();
  return (phase: RolloutStep["phase"], message: string) => {
    const step: RolloutStep = { at: new Date().toISOString(), phase, message };
    if (o.progressKey) {
      const shown = phase === "gate" || phase === "switch" || phase === "stop" || phase === "queued" || phase === "approval" || phase === "policy" ? "verify" : phase;
      o.services.fleet.reportProgress({ key: o.progressKey, phase: shown, message });
    }
    chain = chain.then(async () => {
      const row = await o.db.rollout.findUnique({ where: { id: o.rolloutId }, select: { steps: true } });
      const steps = [...((row?.steps ?? []) as unknown as RolloutStep[]), step];
      const kept = steps.length > MAX_STEPS ? [...steps.slice(0, 20), ...steps.slice(-(MAX_STEPS - 20))] : steps;
      await o.db.rollout.update({ where: { id: o.rolloutId }, data: { steps: kept as object } });
    });
    return chain.catch(() => undefined);
  };
}

/** The outcome written on the row: succeeded or failed, with what it recorded. */
export async function finishRollout(db: Db, rolloutId: string, outcome: RunOutcome): Promise<Rollout> {
  return db.rollout.update({
    where: { id: rolloutId },
    data: {
      status: outcome.ok ? "succeeded" : "failed",
      reason: outcome.reason ?? null,
      logTail: outcome.logTail ?? null,
      strategy: outcome.strategy ?? null,
      ...(outcome.digestAfter !== undefined ? { digestAfter: outcome.digestAfter } : {}),
      ...(outcome.digests ? { digests: outcome.digests as object } : {}),
      versionAfter: outcome.versionAfter ?? null,
      finishedAt: new Date(),
    },
  });
}

/**
 * A stack rollout planned, recorded and run at once, here (no queue, no
 * approval): what a caller that already holds the stack (a direct run) uses.
 * The engine's requestRollout is the way in for everything else.
 */
export async function runStackRolloutNow(
  deps: { db: Db; services: FleetServices | (() => Promise<FleetServices>) },
  req: StackRolloutRequest,
  o: { viewer?: Viewer; signal?: AbortSignal; progressKey?: string } = {},
): Promise<Rollout> {
  // The fleet (for a procedure: its audit intent) only once the request is planned and allowed.
  const lazy = async () => (typeof deps.services === "function" ? deps.services() : deps.services);
  const plan = await planStackRollout({ db: deps.db, get services(): FleetServices { throw new Error("planning asks no host"); } }, req);
  const services = await lazy();
  const row = await writeRollout(deps.db, plan, req, "running");
  const step = stepWriter({ db: deps.db, services, rolloutId: row.id, progressKey: o.progressKey });
  const ctx: RunContext = { db: deps.db, services, rollout: row, viewer: o.viewer ?? req.requester.viewer, step, signal: o.signal ?? new AbortController().signal };
  let outcome: RunOutcome;
  try {
    outcome = await runStackRollout(ctx);
  } catch (e) {
    outcome = { ok: false, reason: e instanceof Error ? e.message : String(e) };
    await step("error", outcome.reason!);
  }
  return finishRollout(deps.db, row.id, outcome);
}
