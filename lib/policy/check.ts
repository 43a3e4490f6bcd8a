import { AppError } from "../app-error";
import type { DeploySpec } from "../deploy/spec";
import { type EvaluationContext, evaluatePolicy, type PolicyViolation } from "./evaluate";
import type { DeployPolicy } from "./rules";

export type { PolicyViolation } from "./evaluate";

// The verdict on a spec under a policy, override included. Pure; the gate
// every path calls (gate.ts) loads the policy and the image and asks this.

export interface CheckOptions {
  /** The caller asks to deploy despite violations. */
  override: boolean;
  /** The caller holds the permission to override the policy. */
  mayOverride: boolean;
}

export interface CheckResult {
  allowed: boolean;
  /** Every violation found, overridden or not. */
  violations: PolicyViolation[];
  /** The violations let through by an override (to be audited); empty unless an allowed override happened. */
  overridden: PolicyViolation[];
}

/**
 * Allowed when nothing violates the policy, or when an override is requested
 * by a caller who may override (then every violation is reported as
 * overridden). An override requested by a caller who may not is refused.
 */
export function checkDeploy(spec: DeploySpec, policy: DeployPolicy, options: CheckOptions, context: EvaluationContext = {}): CheckResult {
  const violations = evaluatePolicy(spec, policy, context);
  if (violations.length === 0) return { allowed: true, violations, overridden: [] };
  if (options.override === true && options.mayOverride === true) {
    return { allowed: true, violations, overridden: [...violations] };
  }
  return { allowed: false, violations, overridden: [] };
}

/**
 * Thrown when checkDeploy refuses: an AppError FORBIDDEN whose details carry
 * each broken rule (the form shows them next to their fields); the message
 * lists each violated rule once.
 */
export class PolicyDeniedError extends AppError<"FORBIDDEN"> {
  readonly violations: PolicyViolation[];

  constructor(violations: PolicyViolation[]) {
    const labels = [...new Set(violations.map((v) => v.label))];
    super("FORBIDDEN", `Denied by the deploy policy: ${labels.length > 0 ? labels.join("; ") : "no rule given"}.`, { details: { policyViolations: violations } });
    this.name = "PolicyDeniedError";
    this.violations = violations;
  }
}

export function isPolicyDeniedError(error: unknown): error is PolicyDeniedError {
  return error instanceof PolicyDeniedError || (error instanceof Error && error.name === "PolicyDeniedError" && Array.isArray((error as { violations?: unknown }).violations));
}
