import { z } from "zod";

// The kinds of alert rule, their settings and their defaults. Shared by the
// evaluator (server/alerts), the routers and REST (validation), and the
// console's rule editor. Pure: no server imports.

const percent = z.number().min(1).max(100);

export const ALERT_KINDS = {
  hostUnreachable: { subject: "host", label: "Host unreachable", params: z.strictObject({}) },
  agentUnhealthy: { subject: "host", label: "Agent unhealthy", params: z.strictObject({}) },
  hostKeyChanged: { subject: "host", label: "Host key changed", params: z.strictObject({}) },
  containerDied: { subject: "container", label: "Container died with a non-zero exit", params: z.strictObject({}) },
  containerOom: { subject: "container", label: "Container killed by the OOM killer", params: z.strictObject({}) },
  restartLoop: {
    subject: "container",
    label: "Container restarting in a loop",
    params: z.strictObject({ restarts: z.number().int().min(2).max(1000).default(3), minutes: z.number().int().min(1).max(1440).default(5) }),
  },
  containerUnhealthy: { subject: "container", label: "Container unhealthy", params: z.strictObject({}) },
  diskUsage: {
    subject: "host",
    label: "Disk usage of the agent's state root or a volume's filesystem",
    params: z.strictObject({ percent: percent.default(90) }),
  },
  containerMemory: { subject: "container", label: "Container memory above a share of its limit", params: z.strictObject({ percent: percent.default(90) }) },
  containerCpu: { subject: "container", label: "Container CPU above a share of its limit", params: z.strictObject({ percent: percent.default(90) }) },
  rolloutFailed: { subject: "global", label: "Rollout failed or rolled back", params: z.strictObject({}) },
  deployDenied: { subject: "global", label: "Deploy denied by policy", params: z.strictObject({}) },
  signInLockout: { subject: "global", label: "Sign-in lockout", params: z.strictObject({}) },
  auditChainBroken: { subject: "global", label: "Audit chain verification failed", params: z.strictObject({}) },
} as const satisfies Record<string, { subject: "host" | "container" | "global"; label: string; params: z.ZodType }>;

export type AlertKind = keyof typeof ALERT_KINDS;
export const ALERT_KIND_NAMES = Object.keys(ALERT_KINDS) as AlertKind[];
export const alertKindSchema = z.enum(ALERT_KIND_NAMES as [AlertKind, ...AlertKind[]]);

export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** "all", "hostGroup:<id>" or "host:<id>". */
export const alertScopeSchema = z.string().regex(/^(all|hostGroup:[A-Za-z0-9_-]{1,64}|host:[A-Za-z0-9_-]{1,64})$/, "A scope is all, hostGroup:<id> or host:<id>.");

/** Container labels: { key: value } (value "": the label exists). */
export const labelSelectorSchema = z.record(z.string().min(1).max(256), z.string().max(1024)).refine((o) => Object.keys(o).length <= 32, "At most 32 labels.");

/** Rules a new install starts with (enabled, no channel until one is added). */
export const DEFAULT_RULES: { name: string; kind: AlertKind; severity: Severity; forSeconds: number; params?: Record<string, unknown> }[] = [
  { name: "Host unreachable", kind: "hostUnreachable", severity: "critical", forSeconds: 60 },
  { name: "Container killed by OOM", kind: "containerOom", severity: "warning", forSeconds: 0 },
  { name: "Container restart loop", kind: "restartLoop", severity: "warning", forSeconds: 0, params: { restarts: 3, minutes: 5 } },
  { name: "Container unhealthy", kind: "containerUnhealthy", severity: "warning", forSeconds: 60 },
  { name: "Disk above 90 %", kind: "diskUsage", severity: "critical", forSeconds: 300, params: { percent: 90 } },
  { name: "Audit chain broken", kind: "auditChainBroken", severity: "critical", forSeconds: 0 },
];
