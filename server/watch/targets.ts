import "server-only";
import type { Viewer } from "../auth/access";
import { requireOnHost } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { AgentClient } from "../fleet/agent/client";
import type { Host } from "../generated/prisma/client";
import type { Permission } from "../../lib/permissions";
import { digestIn, followedTag, pinnedDigest } from "./tag-digests";

// What a watch follows: a deployment, or one service of a stack. Resolved
// from the database each time (the spec may have changed since), with the
// permissions that go with each kind.

export type WatchTargetInput = { deploymentId: string } | { stackId: string; service: string };

export interface WatchTarget {
  kind: "deployment" | "stack";
  id: string;
  /** "" for a deployment. */
  service: string;
  name: string;
  host: Host;
  /** The image as the spec names it now. */
  image: string;
  /** The tag it follows (normalised), or null: it names no tag (an image id, a bare digest). */
  reference: string | null;
  registryId: string | null;
  /** The container running it now (a stack service's first running replica), if known. */
  containerId: string | null;
  /** Stack: the project, to find its containers by label. */
  project: string | null;
}

export const READ_PERMISSION: Record<WatchTarget["kind"], Permission> = { deployment: "containers.read", stack: "stacks.read" };
export const CHANGE_PERMISSION: Record<WatchTarget["kind"], Permission> = { deployment: "containers.deploy", stack: "stacks.deploy" };

interface SpecLike {
  image?: unknown;
  registryId?: unknown;
}

/** Loads a target, or null when it is gone. No permission check: see loadTargetFor. */
export async function loadTarget(db: Db, input: WatchTargetInput): Promise<WatchTarget | null> {
  if ("deploymentId" in input) {
    const row = await db.deployment.findUnique({ where: { id: input.deploymentId }, include: { host: true } });
    if (!row) return null;
    const spec = (row.spec ?? {}) as SpecLike;
    const image = typeof spec.image === "string" ? spec.image : "";
    return {
      kind: "deployment",
      id: row.id,
      service: "",
      name: row.name,
      host: row.host,
      image,
      reference: followedTag(image),
      registryId: typeof spec.registryId === "string" ? spec.registryId : null,
      containerId: row.containerId,
      project: null,
    };
  }
  const stack = await db.stack.findUnique({ where: { id: input.stackId }, include: { host: true } });
  if (!stack) return null;
  const version = await db.stackVersion.findUnique({ where: { stackId_number: { stackId: stack.id, number: stack.currentVersion } } });
  const services = ((version?.model as { services?: { name: string; spec: SpecLike }[] } | undefined)?.services ?? []).filter((s) => s && typeof s.name === "string");
  const service = services.find((s) => s.name === input.service);
  if (!service) return null;
  const image = typeof service.spec?.image === "string" ? service.spec.image : "";
  return {
    kind: "stack",
    id: stack.id,
    service: service.name,
    name: `${stack.name}/${service.name}`,
    host: stack.host,
    image,
    reference: followedTag(image),
    registryId: typeof service.spec?.registryId === "string" ? service.spec.registryId : null,
    containerId: null,
    project: stack.project,
  };
}

/** The service names of a stack's current version (for forStack), or null when the stack is gone. */
export async function stackServices(db: Db, stackId: string): Promise<{ host: Host; names: string[] } | null> {
  const stack = await db.stack.findUnique({ where: { id: stackId }, include: { host: true } });
  if (!stack) return null;
  const version = await db.stackVersion.findUnique({ where: { stackId_number: { stackId: stack.id, number: stack.currentVersion } } });
  const services = (version?.model as { services?: { name: string }[] } | undefined)?.services ?? [];
  return { host: stack.host, names: services.map((s) => s.name).filter((n) => typeof n === "string") };
}

/**
 * Loads a target the viewer may act on with `need` ("read" or "change");
 * a target that doesn't exist is refused like one the viewer can't see
 * (no lookup by id alone).
 */
export async function loadTargetFor(db: Db, viewer: Viewer, input: WatchTargetInput, need: "read" | "change"): Promise<WatchTarget> {
  const target = await loadTarget(db, input);
  const kind = "deploymentId" in input ? "deployment" : "stack";
  const permission = need === "read" ? READ_PERMISSION[kind] : CHANGE_PERMISSION[kind];
  requireOnHost(viewer, permission, target?.host, `You need the ${permission} permission on this ${kind === "deployment" ? "deployment" : "stack"}'s host.`);
  if (!target) throw new AppError("NOT_FOUND", kind === "deployment" ? "No such deployment." : "No such stack service.");
  return target;
}

/** The container running a target now (a stack service: by its compose labels). */
export async function runningContainer(client: AgentClient, target: WatchTarget): Promise<string | null> {
  if (target.kind === "deployment") return target.containerId;
  const list = await client.containers({ all: false, timeoutMs: 10_000 });
  const mine = list.find((c) => c.Labels?.["com.docker.compose.project"] === target.project && c.Labels?.["com.docker.compose.service"] === target.service);
  return mine?.Id ?? null;
}

/**
 * The digest ("sha256:…") of the image a container runs, in the repository
 * of `reference`: the one it was pinned to, else the image's RepoDigests as
 * the host reports them. Null when the image came from no registry.
 */
export async function containerDigest(client: AgentClient, containerId: string, reference: string): Promise<string | null> {
  const c = await client.inspectContainer(containerId, { timeoutMs: 10_000 });
  const pinned = pinnedDigest(c.Config.Image);
  if (pinned) return pinned;
  const image = await client.inspectImage(c.Image, { timeoutMs: 10_000 });
  return digestIn(reference, (image as { RepoDigests?: string[] | null } | null)?.RepoDigests);
}
