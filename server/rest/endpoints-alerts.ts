import "server-only";
import { z } from "zod";
import { alertKindSchema, SEVERITIES } from "../../lib/alerts/kinds";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { idParam, queryBoolean } from "./schemas";

// /api/v1 endpoints of the alert engine (server/alerts): alerts, alert rules
// and silences. Spread into ENDPOINTS. Rule changes and silences are audited
// at the REST level and by the tRPC procedure they call.

const none = z.strictObject({});
const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });
function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

const timestamp = z.string().describe("RFC 3339");
const kind = alertKindSchema;
const severity = z.enum(SEVERITIES);
const scopeKey = z.string().regex(/^(all|hostGroup:[A-Za-z0-9_-]{1,64}|host:[A-Za-z0-9_-]{1,64})$/, "all, hostGroup:<id> or host:<id>");
const labels = z.record(z.string(), z.string());
const STATUSES = ["pending", "firing", "resolved"] as const;

const alertBody = z
  .object({
    id: z.string(),
    ruleId: z.string(),
    ruleName: z.string(),
    kind,
    severity,
    status: z.enum(STATUSES),
    subjectKey: z.string().describe('What it is about: "host:<id>", "container:<hostId>/<name>", "disk:<hostId>/<mount>" or "global:<kind>".'),
    summary: z.string(),
    host: z.object({ id: z.string(), name: z.string() }).nullable(),
    container: z.object({ id: z.string().nullable(), name: z.string() }).nullable(),
    startsAt: timestamp.describe("When the condition first held."),
    firedAt: timestamp.nullable(),
    resolvedAt: timestamp.nullable(),
    lastNotifiedAt: timestamp.nullable(),
    notifyCount: z.number().int(),
    silencedBy: z.object({ id: z.string(), comment: z.string(), createdByLabel: z.string().nullable(), endsAt: timestamp }).nullable(),
  })
  .meta({ id: "Alert" });

const alertDetailBody = alertBody
  .extend({
    details: z.record(z.string(), z.unknown()),
    timeline: z.array(z.object({ at: timestamp, event: z.string(), message: z.string() })),
    notifications: z.array(
      z.object({
        id: z.string(),
        alertId: z.string().nullable(),
        channelId: z.string(),
        channelName: z.string(),
        kind: z.enum(["firing", "repeat", "resolved", "test"]),
        status: z.enum(["pending", "sent", "failed", "dead"]),
        attempts: z.number().int(),
        nextAttemptAt: timestamp,
        lastError: z.string().nullable(),
        sentAt: timestamp.nullable(),
        createdAt: timestamp,
      }),
    ),
  })
  .meta({ id: "AlertDetail" });

const ruleBody = z
  .object({
    id: z.string(),
    name: z.string(),
    kind,
    severity,
    scopeKey: z.string(),
    scopeLabel: z.string(),
    labelSelector: labels,
    params: z.record(z.string(), z.unknown()),
    forSeconds: z.number().int(),
    repeatMinutes: z.number().int(),
    channelIds: z.array(z.string()),
    enabled: z.boolean(),
    builtIn: z.boolean().describe("Seeded on a new install: can be changed or disabled, not removed."),
    firing: z.number().int(),
    updatedAt: timestamp,
  })
  .meta({ id: "AlertRule" });

const ruleFields = {
  name: z.string().min(1).max(100),
  kind: kind.describe("What the rule watches; see the README's Alerts section for each kind's params."),
  severity: severity.default("warning"),
  scopeKey: scopeKey.default("all").describe("all, hostGroup:<id> or host:<id>."),
  labelSelector: labels.default({}).describe("Container labels that must all match (value \"\": the label exists). Container kinds only."),
  params: z.record(z.string(), z.unknown()).default({}).describe("The kind's settings: restartLoop {restarts, minutes}; diskUsage, containerMemory, containerCpu {percent}."),
  forSeconds: z.number().int().min(0).max(86_400).default(0).describe("How long the condition must hold before the alert fires."),
  repeatMinutes: z.number().int().min(0).max(10_080).default(240).describe("How often a firing alert is sent again (0: never)."),
  channelIds: z.array(idParam).max(20).default([]),
  enabled: z.boolean().default(true),
};
export const ruleCreateBody = z.strictObject(ruleFields);
export const ruleUpdateBody = z.strictObject({
  name: ruleFields.name.optional(),
  kind: kind.optional(),
  severity: severity.optional(),
  scopeKey: scopeKey.optional(),
  labelSelector: labels.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  forSeconds: z.number().int().min(0).max(86_400).optional(),
  repeatMinutes: z.number().int().min(0).max(10_080).optional(),
  channelIds: z.array(idParam).max(20).optional(),
  enabled: z.boolean().optional(),
});

const silenceBody = z
  .object({
    id: z.string(),
    ruleId: z.string().nullable(),
    ruleName: z.string().nullable(),
    scopeKey: z.string().nullable(),
    labelSelector: labels,
    comment: z.string(),
    startsAt: timestamp,
    endsAt: timestamp,
    endedAt: timestamp.nullable(),
    active: z.boolean(),
    createdByLabel: z.string().nullable(),
  })
  .meta({ id: "Silence" });

export const silenceCreateBody = z.strictObject({
  ruleId: idParam.nullable().default(null).describe("Only this rule's alerts."),
  scopeKey: scopeKey.nullable().default(null).describe("Only alerts of hosts in this scope (no scope or all: needs alerts.silence everywhere)."),
  labelSelector: labels.default({}).describe("Only alerts of containers with these labels."),
  comment: z.string().min(1).max(2000),
  endsAt: z.iso.datetime({ offset: true }).describe("When it ends by itself (at most a year ahead)."),
});

const statusList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(",")).filter(Boolean))
  .pipe(z.array(z.enum(STATUSES)).max(3));

export const alertsQuery = z.strictObject({
  status: statusList.optional().describe("Only these statuses (repeat the key or separate with commas): pending, firing, resolved."),
  hostId: idParam.optional(),
  ruleId: idParam.optional(),
  cursor: idParam.optional().describe("nextCursor of the previous page."),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const alertParams = z.strictObject({ alertId: idParam });
const ruleParams = z.strictObject({ ruleId: idParam });
const silenceParams = z.strictObject({ silenceId: idParam });

export const ALERT_ENDPOINTS = {
  listAlerts: endpoint({
    id: "listAlerts",
    method: "GET",
    path: "/alerts",
    resource: "Alerts",
    summary: "Alerts on the hosts this token may read alerts of, newest first",
    description: "Alerts about no host (rollouts, sign-in, the audit chain) need alerts.read everywhere.",
    permission: "alerts.read",
    action: "api.v1.alerts.list",
    mutation: false,
    params: none,
    query: alertsQuery,
    answers: [json(200, "One page of alerts.", z.object({ items: z.array(alertBody), nextCursor: z.string().nullable() }))],
    errors: [400, 403],
    example: { query: "status=firing&limit=20" },
  }),
  getAlert: endpoint({
    id: "getAlert",
    method: "GET",
    path: "/alerts/{alertId}",
    resource: "Alerts",
    summary: "One alert with its timeline and notifications",
    permission: "alerts.read",
    action: "api.v1.alerts.get",
    mutation: false,
    params: alertParams,
    query: none,
    answers: [json(200, "The alert.", alertDetailBody)],
    errors: [403],
  }),
  listAlertRules: endpoint({
    id: "listAlertRules",
    method: "GET",
    path: "/alert-rules",
    resource: "Alerts",
    summary: "Alert rules, with how many alerts each has firing",
    permission: "alerts.read",
    action: "api.v1.alertRules.list",
    mutation: false,
    params: none,
    query: none,
    answers: [json(200, "The rules.", z.array(ruleBody))],
    errors: [403],
  }),
  createAlertRule: endpoint({
    id: "createAlertRule",
    method: "POST",
    path: "/alert-rules",
    resource: "Alerts",
    summary: "Add an alert rule",
    permission: "alerts.manage",
    action: "api.v1.alertRules.create",
    mutation: true,
    params: none,
    query: none,
    body: ruleCreateBody,
    answers: [json(200, "The rule.", ruleBody)],
    errors: [400, 403, 409],
    example: { body: { name: "Web restarts", kind: "restartLoop", severity: "warning", labelSelector: { tier: "web" }, params: { restarts: 5, minutes: 10 } } },
  }),
  getAlertRule: endpoint({
    id: "getAlertRule",
    method: "GET",
    path: "/alert-rules/{ruleId}",
    resource: "Alerts",
    summary: "One alert rule",
    permission: "alerts.read",
    action: "api.v1.alertRules.get",
    mutation: false,
    params: ruleParams,
    query: none,
    answers: [json(200, "The rule.", ruleBody)],
    errors: [403, 404],
  }),
  updateAlertRule: endpoint({
    id: "updateAlertRule",
    method: "PUT",
    path: "/alert-rules/{ruleId}",
    resource: "Alerts",
    summary: "Change an alert rule (only the fields given); built-in rules too",
    permission: "alerts.manage",
    action: "api.v1.alertRules.update",
    mutation: true,
    params: ruleParams,
    query: none,
    body: ruleUpdateBody,
    answers: [json(200, "The rule.", ruleBody)],
    errors: [400, 403, 404, 409],
    example: { body: { forSeconds: 120, enabled: true } },
  }),
  deleteAlertRule: endpoint({
    id: "deleteAlertRule",
    method: "DELETE",
    path: "/alert-rules/{ruleId}",
    resource: "Alerts",
    summary: "Remove an alert rule (built-in rules can only be disabled)",
    permission: "alerts.manage",
    action: "api.v1.alertRules.remove",
    mutation: true,
    params: ruleParams,
    query: none,
    answers: [json(200, "Removed.", z.object({ ok: z.literal(true) }))],
    errors: [400, 403, 404],
  }),
  listSilences: endpoint({
    id: "listSilences",
    method: "GET",
    path: "/silences",
    resource: "Alerts",
    summary: "Silences whose scope this token may read alerts of",
    permission: "alerts.read",
    action: "api.v1.silences.list",
    mutation: false,
    params: none,
    query: z.strictObject({ includeEnded: queryBoolean.optional().describe("true: ended ones too (the last 500).") }),
    answers: [json(200, "The silences.", z.array(silenceBody))],
    errors: [400, 403],
  }),
  createSilence: endpoint({
    id: "createSilence",
    method: "POST",
    path: "/silences",
    resource: "Alerts",
    summary: "Hold notifications back until an end time: by rule, scope and/or container labels (all given must match)",
    permission: null,
    description: "Needs alerts.silence over the scope (a host, a group; no scope or all: everywhere).",
    action: "api.v1.silences.create",
    mutation: true,
    params: none,
    query: none,
    body: silenceCreateBody,
    answers: [json(200, "The silence.", silenceBody)],
    errors: [400, 403],
    example: { body: { scopeKey: "host:HOST_ID", comment: "maintenance", endsAt: "2030-01-01T12:00:00Z" } },
  }),
  endSilence: endpoint({
    id: "endSilence",
    method: "POST",
    path: "/silences/{silenceId}/end",
    resource: "Alerts",
    summary: "End a silence now (alerts still firing are sent again)",
    permission: null,
    description: "Needs alerts.silence over the silence's scope.",
    action: "api.v1.silences.end",
    mutation: true,
    params: silenceParams,
    query: none,
    answers: [json(200, "The silence, ended.", silenceBody)],
    errors: [400, 403],
  }),
} as const;
