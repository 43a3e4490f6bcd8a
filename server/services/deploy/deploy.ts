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
import type { HostRef, Viewer } from "../../auth/access";
import { layerProgress, progressKey } from "../operations/progress";
import { registryAuthHeader } from "../registries/registries";
import { maskSpecSecrets, sealSpecSecrets } from "./secrets";
import { CONFINEMENT_HEADER, encodeConfinement } from "../../../lib/confinement";
import type { Prisma } from "../../generated/prisma/client";
import { actorOf } from "../../pipeline/audit-log";
import { digestOnHost } from "../../rollouts/digests";
import { diffSpecs } from "../../rollouts/spec-diff";
import { approvalNeed } from "../../approvals/required";
import { requestRollout } from "../../rollouts/engine";

// Deploying: policy → pull (per the pull policy, with live progress) → create →
// start → save the Deployment (and its first timeline entry). Updating is a
// rollout (server/rollouts): these steps are what it is made of.

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

export interface DeployContext {
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

export function contextOf(r: DeployRequest): DeployContext {
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
  /** "" while the deploy waits for approval. */
  containerId: string;
  name: string;
  overridden: PolicyViolation[];
  /** Where the host requires approval: the deploy waits as this rollout, nothing is on the host yet. */
  awaitingApproval?: { rolloutId: string };
}

export function report(c: DeployContext, p: Omit<OperationProgress, "key">) {
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
export function judgeByName(c: DeployContext, spec: DeploySpec): Promise<DeployVerdict> {
  return gate(c, spec, "not-asked");
}

/**
 * The pull the spec's pull policy asks for, then the gate again on the image
 * the host resolves the reference to (where its content came from: a name given
 * by docker tag, or an image ID, proves nothing). The agent then holds the
 * container to the verdict's confinement when it creates and starts it.
 */
export async function pullAndJudge(c: DeployContext, client: AgentClient, spec: DeploySpec, force: boolean, policy: DeployPolicy): Promise<DeployVerdict> {
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
export async function createAndStart(
  c: DeployContext,
  client: AgentClient,
  spec: DeploySpec,
  name: string,
  verdict: DeployVerdict,
  o: { extraAliases?: string[] } = {},
): Promise<string> {
  report(c, { phase: "create", message: `Creating ${name}` });
  const headers = { [CONFINEMENT_HEADER]: encodeConfinement(verdict.confinement) };
  try {
    const created = await client.createContainer(withAliases(toCreateBody(spec), o.extraAliases ?? []), name, { timeoutMs: 60_000, headers });
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

/**
 * The create body with more network-scoped aliases on its user-defined
 * network (a rollout's new container answers to the deployment's name while
 * it still has a temporary one). Built-in networks have no aliases.
 */
function withAliases(body: Record<string, unknown>, aliases: string[]): Record<string, unknown> {
  const endpoints = (body.NetworkingConfig as { EndpointsConfig?: Record<string, { Aliases?: string[] }> } | undefined)?.EndpointsConfig;
  const network = (body.HostConfig as { NetworkMode?: string } | undefined)?.NetworkMode ?? "default";
  if (aliases.length === 0 || ["bridge", "default", "host", "none"].includes(network) || network.startsWith("container:")) return body;
  const current = endpoints?.[network]?.Aliases ?? [];
  const all = [...current, ...aliases.filter((a) => !current.includes(a))];
  return { ...body, NetworkingConfig: { EndpointsConfig: { ...(endpoints ?? {}), [network]: { ...(endpoints?.[network] ?? {}), Aliases: all } } } };
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
  // Where the host requires approval, a first deploy waits like an update: the deployment is saved with
  // no container, and its first rollout (which creates the container) runs once an approver allows it.
  const actor = actorOf(c.viewer);
  const requester = { actor, viewer: c.viewer };
  if ((await approvalNeed(c.db, { id: c.hostId, hostGroupId: c.hostGroupId }, requester)).required) {
    const saved = await c.db.deployment.create({
      data: { hostId: c.hostId, name, spec: sealSpecSecrets(c.services.box, { ...spec, name }), containerId: null, status: "awaitingApproval", createdById: c.userId },
    });
    const accepted = await requestRollout(
      { db: c.db, services: c.services },
      { target: { kind: "deployment", deploymentId: saved.id }, trigger: actor.type === "token" ? "api" : "form", requester, override: c.override },
    );
    report(c, { phase: "done", message: `${name} waits for approval: an approver must allow it first` });
    return { deploymentId: saved.id, containerId: "", name, overridden: [], awaitingApproval: { rolloutId: accepted.rolloutId } };
  }
  try {
    const verdict = await pullAndJudge(c, client, spec, spec.pullPolicy === "always", policy);
    const overridden = verdict.overridden;
    const containerId = await createAndStart(c, client, spec, name, verdict);
    const sealed = sealSpecSecrets(c.services.box, { ...spec, name });
    const saved = await c.db.deployment.create({
      data: { hostId: c.hostId, name, spec: sealed, containerId, status: "running", createdById: c.userId },
    });
    await recordFirstDeploy(c, saved.id, spec, sealed, verdict, await digestOnHost(client, spec.image).catch(() => null));
    report(c, { phase: "done", message: `${name} is running` });
    return { deploymentId: saved.id, containerId, name, overridden };
  } catch (e) {
    report(c, { phase: "error", message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
}

/** A first deploy is the first entry of the deployment's timeline: a succeeded rollout with its digest. */
async function recordFirstDeploy(c: DeployContext, deploymentId: string, spec: DeploySpec, sealed: DeploySpec, verdict: DeployVerdict, digest: string | null): Promise<void> {
  const actor = actorOf(c.viewer);
  const now = new Date();
  const at = now.toISOString();
  await c.db.rollout.create({
    data: {
      hostId: c.hostId,
      deploymentId,
      trigger: actor.type === "token" ? "api" : "form",
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorLabel: actor.label ?? null,
      requestedById: c.userId,
      status: "succeeded",
      imageRef: spec.image,
      digestAfter: digest,
      specAfter: sealed as unknown as Prisma.InputJsonValue,
      specDiff: diffSpecs(null, maskSpecSecrets(spec)) as unknown as Prisma.InputJsonValue,
      verdict: { allowed: verdict.allowed, violations: verdict.violations, overridden: verdict.overridden } as unknown as Prisma.InputJsonValue,
      override: c.override,
      strategy: "first deploy",
      steps: [{ at, phase: "done", message: `First deploy of ${spec.image}${digest ? ` (${digest})` : ""}` }] as unknown as Prisma.InputJsonValue,
      startedAt: now,
      finishedAt: now,
    },
  });
}

/** A saved deployment on the host with its spec, secret values masked (to prefill the form for an edited update). */
export async function getDeployment(o: { db: Db; hostId: string; deploymentId: string }) {
  const row = await o.db.deployment.findUnique({ where: { id: o.deploymentId } });
  if (!row || row.hostId !== o.hostId) throw new AppError("NOT_FOUND", "No such deployment on this host.");
  return { ...row, spec: maskSpecSecrets(row.spec as DeploySpec) };
}
