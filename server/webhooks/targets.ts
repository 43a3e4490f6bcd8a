import "server-only";
import type { HostRef } from "../auth/access";
import type { Db } from "../db";
import { parseReference, type ImageReference } from "../../lib/image-reference";
import type { Permission } from "../../lib/permissions";

// What a webhook deploys: a saved deployment or a stack, on its host, and the
// image references it runs now (a call may only name one of those
// repositories: a webhook can re-pull or move a tag, never swap the image).

export type TargetKind = "deployment" | "stack";

export interface HookTarget {
  kind: TargetKind;
  id: string;
  name: string;
  host: HostRef & { name: string };
  /** The references the target runs now (a deployment's one, a stack's per service), as saved. */
  images: string[];
}

/** What creating or calling a webhook of this kind needs on the host. */
export const DEPLOY_PERMISSION: Record<TargetKind, Permission> = { deployment: "containers.deploy", stack: "stacks.deploy" };
/** What listing a target's webhooks needs. */
export const READ_PERMISSION: Record<TargetKind, Permission> = { deployment: "containers.read", stack: "stacks.read" };

const hostSelect = { id: true, name: true, hostGroupId: true } as const;

function imageOf(spec: unknown): string | null {
  const image = (spec as { image?: unknown } | null)?.image;
  return typeof image === "string" && image ? image : null;
}

/** The target, or null when it doesn't exist (any more). */
export async function loadTarget(db: Db, ref: { kind: TargetKind; id: string }): Promise<HookTarget | null> {
  if (ref.kind === "deployment") {
    const d = await db.deployment.findUnique({ where: { id: ref.id }, select: { id: true, name: true, spec: true, host: { select: hostSelect } } });
    if (!d) return null;
    const image = imageOf(d.spec);
    return { kind: "deployment", id: d.id, name: d.name, host: d.host, images: image ? [image] : [] };
  }
  const s = await db.stack.findUnique({ where: { id: ref.id }, select: { id: true, name: true, currentVersion: true, host: { select: hostSelect } } });
  if (!s) return null;
  const version = await db.stackVersion.findUnique({ where: { stackId_number: { stackId: s.id, number: s.currentVersion } }, select: { model: true } });
  const services = ((version?.model as { services?: { spec?: unknown }[] } | null)?.services ?? []).slice(0, 500);
  const images = [...new Set(services.map((svc) => imageOf(svc.spec)).filter((i): i is string => i !== null))];
  return { kind: "stack", id: s.id, name: s.name, host: s.host, images };
}

export function targetOf(row: { deploymentId: string | null; stackId: string | null }): { kind: TargetKind; id: string } | null {
  if (row.deploymentId) return { kind: "deployment", id: row.deploymentId };
  if (row.stackId) return { kind: "stack", id: row.stackId };
  return null;
}

function parsed(ref: string): ImageReference | null {
  try {
    return parseReference(ref);
  } catch {
    return null;
  }
}

/** "registry/repository" of a reference, or null when it doesn't parse. */
export function repositoryKey(ref: string): string | null {
  const r = parsed(ref);
  return r ? `${r.registry}/${r.repository}` : null;
}

/** Of the target's images, the one in the same repository as `ref` (registry and path), or null. */
export function sameRepository(target: HookTarget, ref: string): string | null {
  const key = repositoryKey(ref);
  return key ? (target.images.find((i) => repositoryKey(i) === key) ?? null) : null;
}

/** Of the target's images, the one whose repository path (without the registry) is `repository`: a registry's notification names only the path. */
export function imageForRepositoryPath(target: HookTarget, repository: string): ImageReference | null {
  for (const i of target.images) {
    const r = parsed(i);
    if (r && r.repository === repository) return r;
  }
  return null;
}
