import "server-only";
import { z } from "zod";
import { ALERT_KINDS, alertKindSchema, alertScopeSchema, DEFAULT_RULES, labelSelectorSchema, SEVERITIES, type AlertKind, type Severity } from "../../lib/alerts/kinds";
import type { AlertRuleView } from "../../lib/alerts/views";
import { requireGlobal, type Viewer } from "../auth/access";
import { writeAudit } from "../audit/write";
import { SYSTEM_ACTOR } from "../audit/types";
import type { Db } from "../db";
import { AppError } from "../errors";
import { Prisma } from "../generated/prisma/client";
import { currentEvaluator } from "./evaluator";

// Alert rules: the defaults a new install starts with, and create / change /
// remove (alerts.manage everywhere). Params are checked against the kind's
// schema; a scope must name a host or group that exists; built-in rules can be
// changed or disabled, never removed. The routers and REST audit the calls.

const id = z.string().min(1).max(64);

export const ruleInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  kind: alertKindSchema,
  severity: z.enum(SEVERITIES).default("warning"),
  scopeKey: alertScopeSchema.default("all"),
  labelSelector: labelSelectorSchema.default({}),
  params: z.record(z.string(), z.unknown()).default({}),
  forSeconds: z.number().int().min(0).max(86_400).default(0),
  repeatMinutes: z.number().int().min(0).max(10_080).default(240),
  channelIds: z.array(id).max(20).default([]),
  enabled: z.boolean().default(true),
});
export type RuleInput = z.infer<typeof ruleInputSchema>;
export const ruleUpdateSchema = ruleInputSchema.partial().extend({ id });
export type RuleUpdate = z.infer<typeof ruleUpdateSchema>;

/** The marker that the defaults were seeded once: deleting every rule doesn't bring them back. */
export const SEEDED_ACTION = "alerts.rules.seeded";
const SEED_LOCK = 72707391;

/** Seeds DEFAULT_RULES on a new install: only if no rule exists and they were never seeded. Safe on several gateways at once. */
export async function seedDefaultRules(db: Db): Promise<number> {
  const created = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK}::int4)`;
    if (await tx.auditEvent.findFirst({ where: { action: SEEDED_ACTION }, select: { id: true } })) return -1;
    if ((await tx.alertRule.count()) > 0) return 0;
    for (const r of DEFAULT_RULES) {
      await tx.alertRule.create({ data: { name: r.name, kind: r.kind, severity: r.severity, forSeconds: r.forSeconds, params: (r.params ?? {}) as Prisma.InputJsonValue, builtIn: true } });
    }
    return DEFAULT_RULES.length;
  });
  if (created >= 0) await writeAudit(db, { actor: SYSTEM_ACTOR, action: SEEDED_ACTION, outcome: "success", target: null, hostId: null, params: { rules: created }, errorMessage: null });
  return Math.max(0, created);
}

export function scopeLabel(scopeKey: string, names: { hosts: Map<string, string>; groups: Map<string, string> }): string {
  if (scopeKey === "all") return "all hosts";
  if (scopeKey.startsWith("host:")) return `host ${names.hosts.get(scopeKey.slice(5)) ?? scopeKey.slice(5)}`;
  if (scopeKey.startsWith("hostGroup:")) return `group ${names.groups.get(scopeKey.slice(10)) ?? scopeKey.slice(10)}`;
  return scopeKey;
}

export async function scopeNames(db: Db) {
  const [hosts, groups] = await Promise.all([db.host.findMany({ select: { id: true, name: true } }), db.hostGroup.findMany({ select: { id: true, name: true } })]);
  return { hosts: new Map(hosts.map((h) => [h.id, h.name])), groups: new Map(groups.map((g) => [g.id, g.name])) };
}

type RuleRow = Awaited<ReturnType<Db["alertRule"]["findMany"]>>[number];

function toView(r: RuleRow, names: Awaited<ReturnType<typeof scopeNames>>, firing: number): AlertRuleView {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as AlertKind,
    severity: r.severity as Severity,
    scopeKey: r.scopeKey,
    scopeLabel: scopeLabel(r.scopeKey, names),
    labelSelector: (r.labelSelector ?? {}) as Record<string, string>,
    params: (r.params ?? {}) as Record<string, unknown>,
    forSeconds: r.forSeconds,
    repeatMinutes: r.repeatMinutes,
    channelIds: r.channelIds,
    enabled: r.enabled,
    builtIn: r.builtIn,
    firing,
    updatedAt: r.updatedAt,
  };
}

async function firingCounts(db: Db, ruleIds?: string[]): Promise<Map<string, number>> {
  const rows = await db.alert.groupBy({ by: ["ruleId"], where: { status: "firing", ...(ruleIds ? { ruleId: { in: ruleIds } } : {}) }, _count: { _all: true } });
  return new Map(rows.map((r) => [r.ruleId, r._count._all]));
}

/** Rules are global configuration: reading them needs alerts.read somewhere, changing them alerts.manage everywhere. */
export async function listRules(db: Db): Promise<AlertRuleView[]> {
  const [rows, names, firing] = await Promise.all([db.alertRule.findMany({ orderBy: [{ builtIn: "desc" }, { name: "asc" }], take: 1000 }), scopeNames(db), firingCounts(db)]);
  return rows.map((r) => toView(r, names, firing.get(r.id) ?? 0));
}

export async function getRule(db: Db, ruleId: string): Promise<AlertRuleView> {
  const row = await db.alertRule.findUnique({ where: { id: ruleId } });
  if (!row) throw new AppError("NOT_FOUND", "No such alert rule.");
  return toView(row, await scopeNames(db), (await firingCounts(db, [row.id])).get(row.id) ?? 0);
}

/** Params for the kind (defaults filled in), or a BAD_REQUEST naming the field. */
function checkParams(kind: AlertKind, params: Record<string, unknown>): Record<string, unknown> {
  const parsed = ALERT_KINDS[kind].params.safeParse(params);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `Settings for a ${ALERT_KINDS[kind].label.toLowerCase()} rule: ${z.prettifyError(parsed.error)}`);
  return parsed.data as Record<string, unknown>;
}

async function checkScope(db: Db, scopeKey: string): Promise<void> {
  if (scopeKey.startsWith("host:") && !(await db.host.findUnique({ where: { id: scopeKey.slice(5) }, select: { id: true } }))) {
    throw new AppError("BAD_REQUEST", `The scope names a host that doesn't exist (${scopeKey}).`);
  }
  if (scopeKey.startsWith("hostGroup:") && !(await db.hostGroup.findUnique({ where: { id: scopeKey.slice(10) }, select: { id: true } }))) {
    throw new AppError("BAD_REQUEST", `The scope names a host group that doesn't exist (${scopeKey}).`);
  }
}

async function checkChannels(db: Db, channelIds: string[]): Promise<void> {
  if (!channelIds.length) return;
  const found = await db.alertChannel.findMany({ where: { id: { in: channelIds } }, select: { id: true } });
  const missing = channelIds.filter((c) => !found.some((f) => f.id === c));
  if (missing.length) throw new AppError("BAD_REQUEST", `No such notification channel: ${missing.join(", ")}.`);
}

function uniqueName<T>(p: Promise<T>, name: string): Promise<T> {
  return p.catch((e: unknown) => {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") throw new AppError("CONFLICT", `A rule named "${name}" exists already.`);
    throw e;
  });
}

export async function createRule(db: Db, viewer: Viewer, input: RuleInput): Promise<AlertRuleView> {
  requireGlobal(viewer, "alerts.manage", "Changing alert rules");
  const params = checkParams(input.kind, input.params);
  await checkScope(db, input.scopeKey);
  await checkChannels(db, input.channelIds);
  const row = await uniqueName(
    db.alertRule.create({ data: { ...input, channelIds: [...new Set(input.channelIds)], params: params as Prisma.InputJsonValue, builtIn: false, createdById: viewer.user.id } }),
    input.name,
  );
  currentEvaluator()?.invalidate();
  return toView(row, await scopeNames(db), 0);
}

export async function updateRule(db: Db, viewer: Viewer, input: RuleUpdate): Promise<AlertRuleView> {
  requireGlobal(viewer, "alerts.manage", "Changing alert rules");
  const before = await db.alertRule.findUnique({ where: { id: input.id } });
  if (!before) throw new AppError("NOT_FOUND", "No such alert rule.");
  const kind = input.kind ?? (before.kind as AlertKind);
  if (before.builtIn && input.kind && input.kind !== before.kind) throw new AppError("BAD_REQUEST", "A built-in rule keeps its kind; add a rule of your own for another kind.");
  // Params that were right for the old kind may not be for a new one: given params are checked, or the old ones, or the kind's defaults.
  const params = checkParams(kind, input.params ?? (input.kind && input.kind !== before.kind ? {} : ((before.params ?? {}) as Record<string, unknown>)));
  if (input.scopeKey !== undefined) await checkScope(db, input.scopeKey);
  if (input.channelIds !== undefined) await checkChannels(db, input.channelIds);
  const { id: _id, ...rest } = input;
  const row = await uniqueName(
    db.alertRule.update({ where: { id: input.id }, data: { ...rest, ...(rest.channelIds ? { channelIds: [...new Set(rest.channelIds)] } : {}), params: params as Prisma.InputJsonValue } }),
    input.name ?? before.name,
  );
  currentEvaluator()?.invalidate();
  return getRule(db, row.id);
}

export async function removeRule(db: Db, viewer: Viewer, ruleId: string): Promise<{ ok: true }> {
  requireGlobal(viewer, "alerts.manage", "Changing alert rules");
  const row = await db.alertRule.findUnique({ where: { id: ruleId }, select: { builtIn: true } });
  if (!row) throw new AppError("NOT_FOUND", "No such alert rule.");
  if (row.builtIn) throw new AppError("BAD_REQUEST", "A built-in rule can't be removed; disable it instead.");
  await db.alertRule.delete({ where: { id: ruleId } });
  currentEvaluator()?.invalidate();
  return { ok: true };
}
