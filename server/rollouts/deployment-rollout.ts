import "server-only";
import { randomBytes } from "node:crypto";
import type { DeploySpec } from "../../lib/deploy/spec";
import { PolicyDeniedError } from "../../lib/policy/check";
import { canOnHost, type HostRef } from "../auth/access";
import { AppError } from "../errors";
import type { AgentClient } from "../fleet/agent/client";
import type { ContainerInspect } from "../fleet/agent/types";
import { judgeDeploy } from "../policy/gate";
import { contextOf, createAndStart, judgeByName, pullAndJudge } from "../services/deploy/deploy";
import { keepMaskedSecrets, openSpecSecrets, sealSpecSecrets, secretExposingChanges } from "../services/deploy/secrets";
import type { RolloutDeps } from "./engine";
import { containerDigest, digestOnHost, repositoryOf } from "./digests";
import { DEFAULT_GATE, type GateOptions, logTail, passGate } from "./health-gate";
import { progressKeyOf } from "./live";
import { diffSpecs, needsStopFirst } from "./spec-diff";
import type { RolloutPlan, RolloutRequest, RunContext, RunOutcome } from "./types";

// A deployment's rollout. Planned when requested (what changes, the policy
// verdict on the spec by name); run by the worker: pull first while the old
// container keeps serving, judge the pulled image, then replace the container
//  - start-first (default): the new container starts under a temporary name
//    with the same network and aliases (and the deployment's name as an alias),
//    passes the health gate, then the old one leaves its networks (the
//    embedded DNS stops answering with it), is stopped and removed, and the
//    new one takes the deployment's name;
//  - stop-first (a fixed published host port, or the host's network): the old
//    one is renamed aside and stopped, the new one starts under the name and
//    passes the gate; if it doesn't, it is removed and the old one comes back.
// Either way a failed gate leaves the old container serving and says why.

/** The gate used for deployments (settle time, timeout); tests and benchmarks may shorten it with BERTH_ROLLOUT_SETTLE_SECONDS. */
export function gateOptions(): GateOptions {
  const settle = Number(process.env.BERTH_ROLLOUT_SETTLE_SECONDS);
  return Number.isFinite(settle) && settle > 0 && settle <= 600 ? { ...DEFAULT_GATE, settleSeconds: settle } : DEFAULT_GATE;
}

async function hostOf(deps: RolloutDeps, hostId: string): Promise<HostRef> {
  const host = await deps.db.host.findUnique({ where: { id: hostId }, select: { id: true, hostGroupId: true } });
  if (!host) throw new AppError("NOT_FOUND", "The deployment's host no longer exists.");
  return host;
}

/**
 * What a request changes about a deployment, checked now: the requester may
 * deploy there, a new image is the same repository, an edit that could print
 * secret values is made by someone who may read them, the policy allows the
 * spec as written.
 */
export async function planDeploymentRollout(deps: RolloutDeps, req: RolloutRequest & { target: { kind: "deployment" } }): Promise<RolloutPlan> {
  const saved = await deps.db.deployment.findUnique({ where: { id: req.target.deploymentId } });
  const viewer = req.requester.viewer;
  if (!saved) throw new AppError("NOT_FOUND", "No such deployment.");
  const host = await hostOf(deps, saved.hostId);
  if (!canOnHost(viewer, "containers.deploy", host)) {
    throw new AppError("FORBIDDEN", "Updating this deployment needs the containers.deploy permission on its host.");
  }
  const previous = openSpecSecrets(deps.services.box, saved.spec as DeploySpec);
  let spec: DeploySpec = { ...(req.spec ? keepMaskedSecrets(req.spec, previous) : previous), name: saved.name };
  if (req.image) {
    const wanted = repositoryOf(req.image);
    if (!wanted) throw new AppError("BAD_REQUEST", `"${req.image}" is not an image reference of the form repo:tag or repo@sha256:….`);
    const running = repositoryOf(spec.image);
    if (wanted !== running) {
      throw new AppError("BAD_REQUEST", `The image must be of the deployment's repository ${running ?? spec.image}; "${req.image}" is another repository.`);
    }
    spec = { ...spec, image: req.image };
  }
  const exposing = secretExposingChanges(previous, spec);
  if (exposing.length > 0 && !canOnHost(viewer, "containers.exec", host)) {
    throw new AppError(
      "FORBIDDEN",
      `Changing the ${exposing.join(", ")} of a deployment that holds secret environment values needs the containers.exec permission on this host: the new program could print them.`,
    );
  }
  const verdict = await judgeDeploy({ db: deps.db, viewer, host, spec, override: Boolean(req.override), image: "not-asked" });
  if (!verdict.allowed) throw new PolicyDeniedError(verdict.violations);
  const lastGood = await deps.db.rollout.findFirst({
    where: { deploymentId: saved.id, status: "succeeded", digestAfter: { not: null } },
    orderBy: { createdAt: "desc" },
    select: { digestAfter: true },
  });
  let digestBefore = lastGood?.digestAfter ?? null;
  if (!digestBefore && saved.containerId) {
    digestBefore = await containerDigest(deps.services.fleet.client(host.id), saved.containerId, previous.image).catch(() => null);
  }
  return {
    hostId: host.id,
    hostGroupId: host.hostGroupId,
    deploymentId: saved.id,
    imageRef: req.image ?? null,
    digestBefore,
    specBefore: saved.spec,
    specAfter: sealSpecSecrets(deps.services.box, spec),
    specDiff: diffSpecs(previous, spec),
    verdict: { allowed: verdict.allowed, violations: verdict.violations, overridden: verdict.overridden },
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The container's networks (not host or none) with its aliases on each. */
function networksOf(c: ContainerInspect): { name: string; aliases: string[] }[] {
  const networks = (c.NetworkSettings as { Networks?: Record<string, { Aliases?: string[] | null }> } | undefined)?.Networks ?? {};
  return Object.entries(networks)
    .filter(([name]) => name !== "host" && name !== "none")
    .map(([name, n]) => ({ name, aliases: (n?.Aliases ?? []).filter((a) => a !== c.Id.slice(0, 12)) }));
}

/**
 * Takes a container off its networks: its names stop resolving for its peers
 * and its published ports go, so new connections are refused at once rather
 * than sent to an address about to disappear.
 */
async function leaveNetworks(client: AgentClient, c: ContainerInspect): Promise<void> {
  for (const n of networksOf(c)) await client.disconnectNetwork(n.name, c.Id, { force: true, timeoutMs: 15_000 }).catch(() => undefined);
}

/** Puts a container back on the networks it left (before it is started again). */
async function rejoinNetworks(client: AgentClient, c: ContainerInspect): Promise<void> {
  const now = await client.inspectContainer(c.Id, { timeoutMs: 15_000 }).catch(() => null);
  const still = new Set(now ? networksOf(now).map((n) => n.name) : []);
  for (const n of networksOf(c)) {
    if (!still.has(n.name)) await client.connectNetwork(n.name, c.Id, { Aliases: n.aliases }, { timeoutMs: 15_000 }).catch(() => undefined);
  }
}

/** Runs a claimed deployment rollout (the worker calls it with the requester's rights as they are now). */
export async function runDeploymentRollout(ctx: RunContext): Promise<RunOutcome & { error?: unknown; untouched?: boolean; digestBefore?: string | null }> {
  const { db, services, rollout } = ctx;
  const saved = rollout.deploymentId ? await db.deployment.findUnique({ where: { id: rollout.deploymentId } }) : null;
  if (!saved) return { ok: false, reason: "The deployment no longer exists.", untouched: true };
  const host = await hostOf({ db, services }, saved.hostId);
  const spec = openSpecSecrets(services.box, (rollout.specAfter ?? saved.spec) as DeploySpec);
  const name = saved.name;
  const c = contextOf({ db, services, viewer: ctx.viewer, host, override: rollout.override });
  c.progressKey = progressKeyOf(rollout.id);
  const client = services.fleet.client(host.id);
  const strategy = needsStopFirst(spec) ? "stop-first" : "start-first";

  // Before anything is touched: a refusal or a failed pull leaves the old container as it is.
  let verdict;
  let digestAfter: string | null;
  let digestBefore: string | null = rollout.digestBefore;
  try {
    await ctx.step("policy", `Checking ${spec.image} against the deploy policy`);
    const { policy } = await judgeByName(c, spec);
    await ctx.step("pull", `Pulling ${spec.image} (the running container keeps serving)`);
    verdict = await pullAndJudge(c, client, spec, true, policy);
    digestAfter = await digestOnHost(client, spec.image);
    await ctx.step("pull", digestAfter ? `Pulled ${digestAfter}` : `Using ${spec.image} (the host knows no registry digest for it)`);
    if (!digestBefore && saved.containerId) digestBefore = await containerDigest(client, saved.containerId, spec.image).catch(() => null);
  } catch (e) {
    return { ok: false, reason: errorText(e), error: e, untouched: true, strategy, digestBefore };
  }
  // Pinned: the tag moving on the host from now on can't change what is started.
  const run: DeploySpec = { ...spec, image: digestAfter ?? spec.image };
  const old = saved.containerId ? await client.inspectContainer(saved.containerId, { timeoutMs: 15_000 }).catch(() => null) : null;
  const wasRunning = Boolean(old?.State.Running);

  const fail = async (reason: string, newId: string | null): Promise<RunOutcome & { digestBefore?: string | null }> => {
    const tail = newId ? await logTail(client, newId) : null;
    if (newId) await client.removeContainer(newId, { force: true }).catch(() => undefined);
    await db.deployment.update({ where: { id: saved.id }, data: { status: "rolledBack", message: reason } });
    return { ok: false, reason, logTail: tail, strategy, digestAfter, digestBefore };
  };

  let newId: string | null = null;
  if (strategy === "start-first") {
    const temporary = `${name}-next-${randomBytes(3).toString("hex")}`;
    try {
      await ctx.step("create", `Starting the new container as ${temporary} next to the running one`);
      newId = await createAndStart(c, client, run, temporary, verdict, { extraAliases: [name] });
      await ctx.step("gate", "Waiting for the new container to be healthy");
      const gate = await passGate(client, newId, gateOptions(), ctx.signal);
      if (!gate.ok) {
        await ctx.step("rollback", `${gate.reason}: removing it; the old container keeps serving`);
        return await fail(gate.reason, newId);
      }
      await ctx.step("gate", gate.how === "healthy" ? "The new container is healthy" : `The new container kept running for ${gateOptions().settleSeconds} s`);
      if (old) {
        await ctx.step("switch", `Taking ${name} (the old container) off its networks`);
        await leaveNetworks(client, old);
        await ctx.step("stop", `Stopping and removing the old container`);
        if (wasRunning) await client.stopContainer(old.Id, { timeoutSeconds: 10, timeoutMs: 30_000 }).catch(() => undefined);
        await client.removeContainer(old.Id, { force: true, timeoutMs: 30_000 });
      }
    } catch (e) {
      const reason = errorText(e);
      await ctx.step("rollback", `${reason}: removing the new container`);
      if (old) {
        // The old one may have been taken off its networks already: it is started again under its name.
        const still = await client.inspectContainer(old.Id).catch(() => null);
        if (still) await rejoinNetworks(client, old);
        if (still && !still.State.Running && wasRunning) await client.startContainer(old.Id).catch(() => undefined);
      }
      return await fail(reason, newId);
    }
    // The old container is gone: the new one is what serves now, whatever happens to the rename.
    await ctx.step("switch", `Renaming ${temporary} to ${name}`);
    const renamed = await client.renameContainer(newId, name, { timeoutMs: 15_000 }).then(
      () => null,
      (e: unknown) => errorText(e),
    );
    if (renamed) {
      await db.deployment.update({ where: { id: saved.id }, data: { spec: sealSpecSecrets(services.box, spec), containerId: newId, status: "running", message: renamed } });
      return { ok: false, reason: `The new container runs as ${temporary}: renaming it to ${name} failed (${renamed})`, strategy, digestAfter, digestBefore };
    }
  } else {
    const aside = `${name}-previous-${randomBytes(2).toString("hex")}`;
    const bringBack = async () => {
      if (!old) return;
      await client.renameContainer(old.Id, name).catch(() => undefined);
      await rejoinNetworks(client, old);
      if (wasRunning) await client.startContainer(old.Id).catch(() => undefined);
    };
    try {
      if (old) {
        await ctx.step("stop", `Stopping the old container (a fixed host port: stop, then start)`);
        await client.renameContainer(old.Id, aside, { timeoutMs: 15_000 });
        // Off its networks first: its port is released at once (connections refused, not sent to a vanishing address).
        if (wasRunning) await leaveNetworks(client, old);
        if (wasRunning) await client.stopContainer(old.Id, { timeoutSeconds: 10, timeoutMs: 30_000 });
      }
      await ctx.step("create", `Starting the new container as ${name}`);
      newId = await createAndStart(c, client, run, name, verdict);
      await ctx.step("gate", "Waiting for the new container to be healthy");
      const gate = await passGate(client, newId, gateOptions(), ctx.signal);
      if (!gate.ok) {
        await ctx.step("rollback", `${gate.reason}: bringing the old container back`);
        const out = await fail(gate.reason, newId);
        await bringBack();
        return out;
      }
      await ctx.step("gate", gate.how === "healthy" ? "The new container is healthy" : `The new container kept running for ${gateOptions().settleSeconds} s`);
      if (old) await client.removeContainer(old.Id, { force: true, timeoutMs: 30_000 }).catch(() => undefined);
    } catch (e) {
      const reason = errorText(e);
      await ctx.step("rollback", `${reason}: bringing the old container back`);
      const out = await fail(reason, newId);
      await bringBack();
      return out;
    }
  }
  const image = await client.inspectContainer(newId, { timeoutMs: 15_000 }).catch(() => null);
  await db.deployment.update({
    where: { id: saved.id },
    data: { spec: sealSpecSecrets(services.box, spec), containerId: newId, imageId: image?.Image ?? null, status: "running", message: null },
  });
  return { ok: true, strategy, digestAfter, digestBefore };
}
