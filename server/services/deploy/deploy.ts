import "server-only";
import { randomBytes } from "node:crypto";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { toCreateBody } from "../../../lib/deploy/create-body";
import type { DeploySpec } from "../../../lib/deploy/spec";
import type { AgentClient } from "../../fleet/agent/client";
import type { PullProgress } from "../../fleet/agent/types";
import type { FleetServices } from "../../fleet/instance";
import { isFleetError } from "../../fleet/errors";
import type { OperationProgress } from "../../fleet/fleet";
import type { PolicyViolation } from "../../../lib/policy/check";
import type { DeployPolicy } from "../../../lib/policy/rules";
import { agentPolicyDenial, type DeployGateInput, type DeployVerdict, enforceDeploy, resolvedImageOf } from "../../policy/gate";
import { canOnHost, type HostRef, type Viewer } from "../../auth/access";
import { layerProgress, progressKey } from "../operations/progress";
import { registryAuthHeader } from "../registries/registries";
import { keepMaskedSecrets, maskSpecSecrets, openSpecSecrets, sealSpecSecrets, secretExposingChanges } from "./secrets";
import { CONFINEMENT_HEADER, encodeConfinement } from "../../../lib/confinement";

// Deploying: policy → pull (per the pull policy, with live progress) → create →
// start → save the Deployment. Updating: pull the newest image, replace the
// container with one made from the same spec, and roll back if it won't run.

/** Who deploys what where: what a deploy or update is given by its caller. */
export interface DeployRequest {
  db: Db;
  services: FleetServices;
  /** Who deploys: the gate works out from it whether they may override. */
  viewer: Viewer;
  host: HostRef;
  /** Ticked "override policy" (honoured only for a viewer who may override). */
  override: boolean;
  /** The console's token for live progress (see operations/progress). */
  progressToken?: string;
}

interface DeployContext {
  db: Db;
  services: FleetServices;
  hostId: string;
  hostGroupId: string | null;
  userId: string;
  viewer: Viewer;
  override: boolean;
  /** Where progress goes (the console subscribes to it). */
  progressKey?: string;
}

function contextOf(r: DeployRequest): DeployContext {
  return {
    db: r.db,
    services: r.services,
    hostId: r.host.id,
    hostGroupId: r.host.hostGroupId,
    userId: r.viewer.user.id,
    viewer: r.viewer,
    override: r.override,
    progressKey: progressKey(r.viewer, r.progressToken),
  };
}

export interface DeployResult {
  deploymentId: string;
  containerId: string;
  name: string;
  overridden: PolicyViolation[];
}

/** How long a new container must stay up to count as started (for update's rollback). */
const SETTLE_MS = 1_500;

function report(c: DeployContext, p: Omit<OperationProgress, "key">) {
  if (c.progressKey) c.services.fleet.reportProgress({ key: c.progressKey, ...p });
}

function gate(c: DeployContext, spec: DeploySpec, image: DeployGateInput["image"], policy?: DeployPolicy): Promise<DeployVerdict> {
  return enforceDeploy({ db: c.db, viewer: c.viewer, host: { id: c.hostId, hostGroupId: c.hostGroupId }, spec, override: c.override, image, policy });
}

/**
 * The policy gate on the spec as written, before the host is asked anything:
 * every rule, the image judged by its name (where a pull would come from); an
 * image ID is judged once the host says what it is.
 */
function judgeByName(c: DeployContext, spec: DeploySpec): Promise<DeployVerdict> {
  return gate(c, spec, "not-asked");
}

/**
 * The pull the spec's pull policy asks for, then the gate again on the image
 * the host resolves the reference to (where its content came from: a name given
 * by docker tag, or an image ID, proves nothing). The agent then holds the
 * container to the verdict's confinement when it creates and starts it.
 */
async function pullAndJudge(c: DeployContext, client: AgentClient, spec: DeploySpec, force: boolean, policy: DeployPolicy): Promise<DeployVerdict> {
  const onHost = async (ref: string) => resolvedImageOf(await client.inspectImage(ref));
  const present = await client.inspectImage(spec.image);
  if (spec.pullPolicy === "never" || (!force && spec.pullPolicy === "missing" && present)) {
    const verdict = await gate(c, spec, async () => resolvedImageOf(present), policy);
    if (!present) throw new AppError("PRECONDITION_FAILED", `The host has no image ${spec.image} and the pull policy is "never".`);
    report(c, { phase: "pull", message: `Using ${spec.image} already on the host` });
    return verdict;
  }
  // What is pulled is judged by the name it is pulled by (an ID-like one too), before it is pulled.
  await gate(c, spec, "will-pull", policy);
  await pull(c, client, spec);
  return gate(c, spec, onHost, policy);
}

async function pull(c: DeployContext, client: AgentClient, spec: DeploySpec): Promise<void> {
  const auth = spec.registryId ? await registryAuthHeader(c.db, c.services.box, spec.registryId, spec.image) : null;
  report(c, { phase: "pull", message: `Pulling ${spec.image}` });
  await client.pull(spec.image, {
    registryAuth: auth?.header,
    timeoutMs: 60_000,
    onProgress: (p: PullProgress) => {
      if (p.id) report(c, { phase: "pull", message: p.status ?? "", layer: layerProgress(p) });
      else if (p.status) report(c, { phase: "pull", message: p.status });
    },
  });
}

function containerName(spec: DeploySpec): string {
  if (spec.name) return spec.name;
  const base = spec.image.split("@")[0]!.split("/").pop()!.split(":")[0]!.replace(/[^a-zA-Z0-9_.-]/g, "-");
  return `${base}-${randomBytes(3).toString("hex")}`;
}

/**
 * Creates and starts a container under the verdict's confinement; on a failed
 * start the half-made container is removed. The agent's refusal of the
 * confinement is the policy denial it is.
 */
async function createAndStart(c: DeployContext, client: AgentClient, spec: DeploySpec, name: string, verdict: DeployVerdict): Promise<string> {
  report(c, { phase: "create", message: `Creating ${name}` });
  const headers = { [CONFINEMENT_HEADER]: encodeConfinement(verdict.confinement) };
  try {
    const created = await client.createContainer(toCreateBody(spec), name, { timeoutMs: 60_000, headers });
    report(c, { phase: "start", message: `Starting ${name}` });
    try {
      await client.startContainer(created.Id, { timeoutMs: 60_000 });
    } catch (e) {
      await client.removeContainer(created.Id, { force: true }).catch(() => undefined);
      throw e;
    }
    return created.Id;
  } catch (e) {
    throw agentPolicyDenial(e, spec) ?? e;
  }
}

/** Deploys a spec to the request's host. */
export async function deploy(r: DeployRequest & { spec: DeploySpec }): Promise<DeployResult> {
  const c = contextOf(r);
  const spec = r.spec;
  const { policy } = await judgeByName(c, spec);
  const client = c.services.fleet.client(c.hostId);
  const name = containerName(spec);
  const existing = await c.db.deployment.findUnique({ where: { hostId_name: { hostId: c.hostId, name } } });
  if (existing) {
    // A deployment whose container was removed is history: deploying the name again replaces it.
    const alive = existing.containerId ? await client.inspectContainer(existing.containerId).catch((e: unknown) => (isFleetError(e) && e.details.status === 404 ? null : e)) : null;
    if (alive instanceof Error) throw alive;
    if (alive) throw new AppError("CONFLICT", `A deployment named "${name}" already exists on this host: update it instead.`);
    await c.db.deployment.delete({ where: { id: existing.id } });
  }
  try {
    const verdict = await pullAndJudge(c, client, spec, spec.pullPolicy === "always", policy);
    const overridden = verdict.overridden;
    const containerId = await createAndStart(c, client, spec, name, verdict);
    const saved = await c.db.deployment.create({
      data: { hostId: c.hostId, name, spec: sealSpecSecrets(c.services.box, { ...spec, name }), containerId, status: "running", createdById: c.userId },
    });
    report(c, { phase: "done", message: `${name} is running` });
    return { deploymentId: saved.id, containerId, name, overridden };
  } catch (e) {
    report(c, { phase: "error", message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
}

async function runningAfterSettle(client: AgentClient, id: string): Promise<{ ok: boolean; why: string }> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const state = (await client.inspectContainer(id)).State;
  if (state.Running && !state.Paused) return { ok: true, why: "" };
  return { ok: false, why: `the new container ${state.Status} with exit code ${state.ExitCode}` };
}

/**
 * Update: pull the newest image for the saved spec (or an edited one), then
 * swap containers. The old one is renamed aside and stopped; if the new one
 * fails to start or stops within a moment, it is removed and the old one
 * comes back under its name.
 */
export async function updateDeployment(
  r: DeployRequest & { deploymentId: string; spec?: DeploySpec },
): Promise<DeployResult & { rolledBack: boolean; message: string | null }> {
  const c = contextOf(r);
  const { deploymentId, spec: edited } = r;
  const saved = await c.db.deployment.findUnique({ where: { id: deploymentId } });
  if (!saved || saved.hostId !== c.hostId) throw new AppError("NOT_FOUND", "No such deployment on this host.");
  const previous = openSpecSecrets(c.services.box, saved.spec as DeploySpec);
  const spec: DeploySpec = { ...(edited ? keepMaskedSecrets(edited, previous) : previous), name: saved.name };
  // A changed program could print the secrets it is given: that is what containers.exec (a shell) allows.
  const exposing = secretExposingChanges(previous, spec);
  if (exposing.length > 0 && !canOnHost(c.viewer, "containers.exec", { id: c.hostId, hostGroupId: c.hostGroupId })) {
    throw new AppError(
      "FORBIDDEN",
      `Changing the ${exposing.join(", ")} of a deployment that holds secret environment values needs the containers.exec permission on this host: the new program could print them.`,
    );
  }
  const { policy } = await judgeByName(c, spec);
  const client = c.services.fleet.client(c.hostId);
  // A refusal, or a pull that fails (a tag that doesn't exist), leaves the running container untouched.
  let verdict: DeployVerdict;
  try {
    verdict = await pullAndJudge(c, client, spec, true, policy);
  } catch (e) {
    report(c, { phase: "error", message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  const overridden = verdict.overridden;
  const oldId = saved.containerId;
  const aside = `${saved.name}-previous-${randomBytes(2).toString("hex")}`;
  const old = oldId ? await client.inspectContainer(oldId).catch(() => null) : null;
  const wasRunning = Boolean(old?.State.Running);
  if (old) {
    await client.renameContainer(old.Id, aside);
    if (wasRunning) await client.stopContainer(old.Id, { timeoutSeconds: 10 });
  }
  const rollBack = async (why: string, newId: string | null) => {
    report(c, { phase: "rollback", message: `Rolling back: ${why}` });
    if (newId) await client.removeContainer(newId, { force: true }).catch(() => undefined);
    if (old) {
      await client.renameContainer(old.Id, saved.name);
      if (wasRunning) await client.startContainer(old.Id);
    }
    await c.db.deployment.update({ where: { id: saved.id }, data: { status: "rolledBack", message: why } });
  };
  let newId: string | null = null;
  try {
    newId = await createAndStart(c, client, spec, saved.name, verdict);
    report(c, { phase: "verify", message: "Checking the new container stays up" });
    const settled = await runningAfterSettle(client, newId);
    if (!settled.ok) {
      await rollBack(settled.why, newId);
      report(c, { phase: "done", message: `Rolled back: ${settled.why}` });
      return { deploymentId: saved.id, containerId: old?.Id ?? "", name: saved.name, overridden, rolledBack: true, message: settled.why };
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    await rollBack(why, newId);
    if (isFleetError(e) || e instanceof AppError) {
      report(c, { phase: "done", message: `Rolled back: ${why}` });
      return { deploymentId: saved.id, containerId: old?.Id ?? "", name: saved.name, overridden, rolledBack: true, message: why };
    }
    throw e;
  }
  if (old) await client.removeContainer(old.Id, { force: true }).catch(() => undefined);
  await c.db.deployment.update({
    where: { id: saved.id },
    data: { spec: sealSpecSecrets(c.services.box, spec), containerId: newId, status: "running", message: null },
  });
  report(c, { phase: "done", message: `${saved.name} updated` });
  return { deploymentId: saved.id, containerId: newId, name: saved.name, overridden, rolledBack: false, message: null };
}

/** A saved deployment on the host with its spec, secret values masked (to prefill the form for an edited update). */
export async function getDeployment(o: { db: Db; hostId: string; deploymentId: string }) {
  const row = await o.db.deployment.findUnique({ where: { id: o.deploymentId } });
  if (!row || row.hostId !== o.hostId) throw new AppError("NOT_FOUND", "No such deployment on this host.");
  return { ...row, spec: maskSpecSecrets(row.spec as DeploySpec) };
}
