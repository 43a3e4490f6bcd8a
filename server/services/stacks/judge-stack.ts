import "server-only";
import type { StackModel, StackService } from "../../../lib/compose/model";
import type { PolicyViolation } from "../../../lib/policy/check";
import type { DeployPolicy } from "../../../lib/policy/rules";
import type { HostRef, Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { judgeDeploy, type DeployGateInput, type DeployVerdict } from "../../policy/gate";
import { getPolicy } from "../policy/policies";

// Every service of a stack through the one deploy-policy gate
// (server/policy/gate.ts), all of them before anything is created: one
// denied service refuses the whole apply, naming the service, the rule and
// the field.

export interface ServiceVerdict {
  service: string;
  image: string;
  verdict: DeployVerdict;
}

export interface StackJudge {
  policy: DeployPolicy;
  judge: (service: StackService, image: DeployGateInput["image"]) => Promise<DeployVerdict>;
}

export async function stackJudge(o: { db: Db; viewer: Viewer; host: HostRef; override: boolean }): Promise<StackJudge> {
  const policy = await getPolicy(o.db, o.host.hostGroupId);
  return {
    policy,
    judge: (service, image) => judgeDeploy({ db: o.db, viewer: o.viewer, host: o.host, spec: service.spec, override: o.override, image, policy }).then((v) => enforce(service, v)),
  };
}

/** A violation with the service in its field and message. */
export function serviceViolation(service: string, v: PolicyViolation): PolicyViolation {
  return { ...v, field: `services.${service}.${v.field}`, message: `Service "${service}": ${v.message}` };
}

export function denial(verdicts: { service: string; verdict: DeployVerdict }[]): AppError | null {
  const denied = verdicts.filter((v) => !v.verdict.allowed);
  if (!denied.length) return null;
  const violations = denied.flatMap((d) => d.verdict.violations.map((v) => serviceViolation(d.service, v)));
  const lines = denied.flatMap((d) => d.verdict.violations.map((v) => `service "${d.service}": rule "${v.label}" (${v.rule}) on ${v.field}`));
  return new AppError("FORBIDDEN", `Denied by the deploy policy: ${lines.join("; ")}.`, { details: { policyViolations: violations } });
}

function enforce(service: StackService, verdict: DeployVerdict): DeployVerdict {
  const refused = denial([{ service: service.name, verdict }]);
  if (refused) throw refused;
  return verdict;
}

/** Each service judged by name (before the host is asked anything). */
export async function judgeByName(o: { db: Db; viewer: Viewer; host: HostRef; override: boolean; model: StackModel }): Promise<ServiceVerdict[]> {
  const policy = await getPolicy(o.db, o.host.hostGroupId);
  return Promise.all(
    o.model.services.map(async (s) => ({
      service: s.name,
      image: s.spec.image,
      verdict: await judgeDeploy({ db: o.db, viewer: o.viewer, host: o.host, spec: s.spec, override: o.override, image: "not-asked", policy }),
    })),
  );
}
