import "server-only";
import { emitSignal } from "../alerts/signals";
import type { Confinement } from "../../lib/confinement";
import type { ImageProvenance } from "../../lib/image-provenance";
import { canOnHost, type HostRef, type Viewer } from "../auth/access";
import type { Db } from "../db";
import type { DeploySpec } from "../../lib/deploy/spec";
import { isFleetError } from "../fleet/errors";
import { getPolicy } from "../services/policy/policies";
import { checkDeploy, PolicyDeniedError, type PolicyViolation } from "../../lib/policy/check";
import type { ImageOnHost, ResolvedImage } from "../../lib/policy/evaluate";
import { type DeployPolicy, normaliseRegistry, normalisePosixPath, RULES } from "../../lib/policy/rules";

// The one deploy-policy gate. Every path that creates or changes a container
// (the form, a pasted `docker run`, the REST API, redeploy and edit, the
// Docker-API proxy, the form's own check as you type) asks it, with the
// viewer, the host and the spec; it answers with the verdict, whether the
// viewer may override it, and the confinement the agent must hold the
// container to (what only the host can check: where a bind source really
// leads, which image a name or ID resolves to and where its content came from).

export interface ImageLookup {
  /** The image as the host resolves the reference now; null when it has none; undefined when the host can't say. */
  (reference: string): Promise<ResolvedImage | null | undefined>;
}

export interface DeployGateInput {
  db: Db;
  /** Who asks; null for a caller that may never override (none today). */
  viewer: Viewer | null;
  host: HostRef;
  spec: DeploySpec;
  /** The caller ticked "override the policy". */
  override: boolean;
  /** False where overriding isn't offered at all (the Docker-API proxy). */
  overrideOffered?: boolean;
  /**
   * The image: a lookup on the host (judged by what it is there); "will-pull"
   * (the host has none, a pull by name comes next); "not-asked" (a first pass
   * before the host is asked: an image ID is judged on the second). Not given:
   * an ID can't be judged, and is refused under a registry allowlist.
   */
  image?: ImageLookup | "will-pull" | "not-asked";
  /** The host's policy, when an earlier pass of the same deploy loaded it. */
  policy?: DeployPolicy;
}

export interface DeployVerdict {
  allowed: boolean;
  violations: PolicyViolation[];
  /** Violations let through by an allowed override (to be audited). */
  overridden: PolicyViolation[];
  /** Whether the viewer holds the right to override this host's policy. */
  mayOverride: boolean;
  /** What the agent must hold the container to (sent with the create). */
  confinement: Confinement;
  policy: DeployPolicy;
}

/** Who may override a host's deploy policy: hosts.manage on that host. */
export function mayOverridePolicy(viewer: Viewer | null, host: HostRef): boolean {
  return viewer !== null && canOnHost(viewer, "hosts.manage", host);
}

/** An image inspect answer's id and provenance (Berth's agent adds BerthProvenance). */
export function resolvedImageOf(inspect: { Id: string; BerthProvenance?: ImageProvenance } | null): ResolvedImage | null {
  return inspect ? { id: inspect.Id, provenance: inspect.BerthProvenance } : null;
}

function confinementFor(policy: DeployPolicy, spec: DeploySpec, overridden: PolicyViolation[]): Confinement {
  const waived = new Set(overridden.map((v) => v.rule));
  const out: Confinement = {};
  const registries = (policy.registryAllowlist ?? []).map(normaliseRegistry);
  if (registries.length > 0 && !waived.has("registryAllowlist")) out.registries = registries;
  const binds = (spec.mounts ?? []).some((m) => m.type === "bind");
  if (binds && !waived.has("bindMountAllowlist")) {
    out.bindPrefixes = (policy.bindMountAllowlist ?? []).map(normalisePosixPath).filter((p): p is string => p !== null);
  }
  return out;
}

export async function judgeDeploy(input: DeployGateInput): Promise<DeployVerdict> {
  const policy = input.policy ?? (await getPolicy(input.db, input.host.hostGroupId));
  const mayOverride = input.overrideOffered !== false && mayOverridePolicy(input.viewer, input.host);
  let image: ImageOnHost = { state: "unknown" };
  if (input.image === "will-pull") image = { state: "absent" };
  else if (input.image === "not-asked") image = { state: "not-asked" };
  else if (typeof input.image === "function" && (policy.registryAllowlist ?? []).length > 0) {
    const found = await input.image(input.spec.image);
    image = found === undefined ? { state: "unknown" } : found === null ? { state: "absent" } : { state: "resolved", image: found };
  }
  const verdict = checkDeploy(input.spec, policy, { override: input.override, mayOverride }, { image });
  return { ...verdict, mayOverride, confinement: confinementFor(policy, input.spec, verdict.overridden), policy };
}

/** judgeDeploy, refusing with PolicyDeniedError unless allowed. */
export async function enforceDeploy(input: DeployGateInput): Promise<DeployVerdict> {
  const verdict = await judgeDeploy(input);
  if (!verdict.allowed) {
    emitSignal({ type: "policy.denied", hostId: input.host.id, actor: input.viewer?.user.email ?? null, message: verdict.violations.map((v) => v.message).join("; ").slice(0, 1000), at: new Date() });
    throw new PolicyDeniedError(verdict.violations);
  }
  return verdict;
}

/**
 * The agent's refusal of a confinement (403 on create or start), as the
 * policy denial it is: the agent saw what the gateway couldn't (a symlink, the
 * image an ID resolves to).
 */
export function agentPolicyDenial(e: unknown, spec: DeploySpec): PolicyDeniedError | null {
  if (!isFleetError(e) || e.code !== "AGENT_ERROR" || e.details.status !== 403) return null;
  const message = e.message;
  if (/bind mount of /.test(e.message)) {
    const index = (spec.mounts ?? []).findIndex((m) => m.type === "bind" && e.message.includes(`bind mount of ${m.source} `));
    const label = RULES.bindMountAllowlist;
    return new PolicyDeniedError([{ rule: "bindMountAllowlist", label, field: index >= 0 ? `mounts.${index}.source` : "mounts", message: `${message} — rule "${label}"` }]);
  }
  if (/registry allowlist/.test(e.message)) {
    const label = RULES.registryAllowlist;
    return new PolicyDeniedError([{ rule: "registryAllowlist", label, field: "image", message: `${message} — rule "${label}"` }]);
  }
  return null;
}
