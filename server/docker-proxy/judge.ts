import "server-only";
import { judgeDeploy, resolvedImageOf } from "../policy/gate";
import { getPolicy } from "../services/policy/policies";
import { PolicyDeniedError, type PolicyViolation } from "../../lib/policy/check";
import { evaluateResources } from "../../lib/policy/evaluate";
import { agentClient } from "./agent-link";
import type { Approved, ProxyContext } from "./context";
import type { TranslatedCreate, VolumesFromEntry } from "./create-spec";
import type { MountSpec } from "../../lib/deploy/spec";
import { imageTargetsOf, imageTargetViolations } from "./image-targets";
import { limitsAfterUpdate, type UpdateRequest } from "./update-spec";

// The deploy policy on the proxy's paths: a create is judged by the one gate
// (server/policy/gate.ts) as every other path is; the names tag, build,
// commit, import and load give images, and a privileged exec, by the same
// rules. A refusal is audited with the rules broken and thrown as FORBIDDEN.

/** Audits the refusal and throws it; `message` is the record's, `suffix` what the CLI user reads after it. */
async function refuse(a: Approved, violations: PolicyViolation[], message: string, suffix: string): Promise<never> {
  a.params.violations = violations.map((v) => ({ rule: v.rule, message: v.message }));
  throw await a.admission.deny("FORBIDDEN", `${message}${suffix}`, {
    action: a.match.endpoint.action,
    params: a.params,
    errorMessage: message,
    hostId: a.host.id,
    target: a.target,
    details: { policyViolations: violations },
  });
}

/**
 * Policy for create: the spec the body asks for, judged by the one gate as
 * every other path is (the image by what the host resolves it to); the
 * verdict's confinement goes to the agent with the create. Mounts taken
 * from other containers (--volumes-from) are judged as this container's own:
 * a bind inherited that way is a bind. Returns VolumesFrom naming the
 * containers judged by ID, for the body forwarded.
 */
export async function judgeCreate(ctx: ProxyContext, a: Approved, translated: TranslatedCreate): Promise<{ volumesFrom?: string[] }> {
  Object.assign(a.params, translated.summary);
  const inherited = translated.volumesFrom.length ? await inheritedMounts(ctx, a, translated.volumesFrom) : null;
  const spec = inherited ? { ...translated.spec, mounts: [...translated.spec.mounts, ...inherited.mounts] } : translated.spec;
  if (inherited) a.params.inheritedMounts = inherited.mounts.map((m) => `${m.type}:${m.type === "tmpfs" ? "" : (m.source ?? "")}:${m.target}${m.type !== "tmpfs" && m.readOnly ? ":ro" : ""}`).slice(0, 100);
  const verdict = await judgeDeploy({
    db: ctx.db(),
    viewer: a.viewer,
    host: a.host,
    spec,
    override: false,
    overrideOffered: false,
    image: async (ref) => {
      try {
        return resolvedImageOf(await agentClient(ctx, a).inspectImage(ref));
      } catch {
        return undefined;
      }
    },
  });
  a.confinement = verdict.confinement;
  const violations = [...verdict.violations, ...translated.extraViolations(verdict.policy)];
  if (violations.length) {
    // The rules by name (as every path words it), then what each says, for the CLI user who sees only this.
    const message = `${new PolicyDeniedError(violations).message} ${violations.map((v) => v.message).join("; ")}`;
    await refuse(a, violations, message, ` (Berth's deploy policy for host ${a.host.name}; an override is not available through the Docker-API proxy)`);
  }
  return inherited ? { volumesFrom: inherited.volumesFrom } : {};
}

/** The mounts --volumes-from brings, as the host reports them on each source container (its own 404 if there is none). */
async function inheritedMounts(ctx: ProxyContext, a: Approved, entries: VolumesFromEntry[]): Promise<{ mounts: MountSpec[]; volumesFrom: string[] }> {
  const mounts: MountSpec[] = [];
  const volumesFrom: string[] = [];
  for (const { container, mode } of entries) {
    const source = await agentClient(ctx, a).inspectContainer(container);
    for (const m of (source.Mounts ?? []) as Array<{ Type?: string; Name?: string; Source?: string; Destination?: string; RW?: boolean }>) {
      if (!m.Destination) continue;
      // As dockerd: ro or rw given with --volumes-from overrides each mount's own mode.
      const readOnly = mode === "" ? m.RW === false : mode === "ro";
      if (m.Type === "bind" && m.Source) mounts.push({ type: "bind", source: m.Source, target: m.Destination, readOnly });
      else if (m.Type === "volume") mounts.push({ type: "volume", ...(m.Name ? { source: m.Name } : {}), target: m.Destination, readOnly });
    }
    volumesFrom.push(mode ? `${source.Id}:${mode}` : source.Id);
  }
  return { mounts, volumesFrom };
}

/** Tag, build, commit, import and load give images names: under a registry allowlist those names are judged too. */
export async function judgeImageTargets(ctx: ProxyContext, a: Approved): Promise<void> {
  const targets = imageTargetsOf(a.match.endpoint.action, a.query);
  if (!targets) return;
  if (targets.kind === "names" && targets.names.length) a.params.imageNames = targets.names.slice(0, 32);
  const policy = await getPolicy(ctx.db(), a.host.hostGroupId);
  const violations = imageTargetViolations(targets, policy);
  if (!violations.length) return;
  return refuse(a, violations, `Denied by the deploy policy: ${violations.map((v) => v.message).join("; ")}`, ` (Berth's deploy policy for host ${a.host.name})`);
}

/** An exec inherits the container's privileges; asking for more is `--privileged`, judged as at create. */
export async function judgePrivilegedExec(ctx: ProxyContext, a: Approved): Promise<void> {
  const policy = await getPolicy(ctx.db(), a.host.hostGroupId);
  if (policy.allowPrivileged) return;
  const message = 'Denied by the deploy policy: Allow privileged containers (a privileged exec) — rule "Allow privileged containers".';
  throw await a.admission.deny("FORBIDDEN", message, { action: a.match.endpoint.action, params: a.params, hostId: a.host.id, target: a.target });
}

/**
 * docker update: the container, with the new limits, must meet the policy's
 * memory and CPU rules as a create would (nothing else the policy judges can
 * change through an update). Its current limits come from the host.
 */
export async function judgeUpdate(ctx: ProxyContext, a: Approved, update: UpdateRequest): Promise<void> {
  Object.assign(a.params, update.summary);
  const policy = await getPolicy(ctx.db(), a.host.hostGroupId);
  if (!policy.requireMemoryLimit && !policy.maxMemoryBytes && !policy.requireCpuLimit && !policy.maxCpus) return;
  // A container that isn't there: the agent's own 404 (no such container) is the answer.
  const current = await agentClient(ctx, a).inspectContainer(a.match.params[0]!);
  const limits = limitsAfterUpdate(current.HostConfig ?? {}, update.body);
  const violations = evaluateResources(limits, policy);
  if (!violations.length) return;
  const message = `${new PolicyDeniedError(violations).message} ${violations.map((v) => v.message).join("; ")}`;
  return refuse(a, violations, message, ` (Berth's deploy policy for host ${a.host.name}; an override is not available through the Docker-API proxy)`);
}
