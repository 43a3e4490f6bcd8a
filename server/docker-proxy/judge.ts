import "server-only";
import { judgeDeploy, resolvedImageOf } from "../policy/gate";
import { getPolicy } from "../services/policy/policies";
import { PolicyDeniedError, type PolicyViolation } from "../../lib/policy/check";
import { agentClient } from "./agent-link";
import type { Approved, ProxyContext } from "./context";
import type { TranslatedCreate } from "./create-spec";
import { imageTargetsOf, imageTargetViolations } from "./image-targets";

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
 * verdict's confinement goes to the agent with the create.
 */
export async function judgeCreate(ctx: ProxyContext, a: Approved, translated: TranslatedCreate): Promise<void> {
  Object.assign(a.params, translated.summary);
  const verdict = await judgeDeploy({
    db: ctx.db(),
    viewer: a.viewer,
    host: a.host,
    spec: translated.spec,
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
  if (!violations.length) return;
  // The rules by name (as every path words it), then what each says, for the CLI user who sees only this.
  const message = `${new PolicyDeniedError(violations).message} ${violations.map((v) => v.message).join("; ")}`;
  return refuse(a, violations, message, ` (Berth's deploy policy for host ${a.host.name}; an override is not available through the Docker-API proxy)`);
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
