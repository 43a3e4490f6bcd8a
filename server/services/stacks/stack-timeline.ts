import "server-only";
import type { StackModel } from "../../../lib/compose/model";
import type { Viewer } from "../../auth/access";
import type { Db } from "../../db";
import type { AgentClient } from "../../fleet/agent/client";
import { actorOf } from "../../pipeline/audit-log";
import { digestFor } from "../../rollouts/stack-order";
import type { RolloutTrigger, SpecChange } from "../../rollouts/types";
import { projectContainers } from "../../stacks/host-state";

// What a stack's timeline entries are made of: the trigger of an apply, what
// changed between two versions, the digest each service runs (from the host).

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
