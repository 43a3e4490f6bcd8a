import "server-only";
import { z } from "zod";
import { alertScopeSchema, labelSelectorSchema } from "../../lib/alerts/kinds";
import { silenceActive } from "../../lib/alerts/machine";
import type { SilenceView } from "../../lib/alerts/views";
import { canOnHost, hasGlobal, hasPermission, holdsOn, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { newId, silenceOf } from "./evaluator";

// Silences hold notifications back: by rule, scope and/or container labels
// (every part given must match), until an end time, with a comment. Making
// or ending one needs alerts.silence over its scope (a host, a group, or —
// for no scope or "all" — everywhere). The evaluator notices them at its next
// tick: a firing alert a silence covers says so in its timeline; when the
// silence ends and the alert still fires, it is sent again.

const MAX_SILENCE_MS = 366 * 24 * 3_600_000;

export const silenceInputSchema = z.object({
  ruleId: z.string().min(1).max(64).nullable().default(null),
  scopeKey: alertScopeSchema.nullable().default(null),
  labelSelector: labelSelectorSchema.default({}),
  comment: z.string().trim().min(1, "Say why (a comment is required).").max(2000),
  endsAt: z.coerce.date(),
});
export type SilenceInput = z.infer<typeof silenceInputSchema>;

type Row = Awaited<ReturnType<Db["silence"]["findMany"]>>[number];

async function mayOnScope(db: Db, viewer: Viewer, permission: "alerts.silence" | "alerts.read", scopeKey: string | null): Promise<boolean> {
  if (!scopeKey || scopeKey === "all") return hasGlobal(viewer, permission);
  if (scopeKey.startsWith("host:")) {
    const host = await db.host.findUnique({ where: { id: scopeKey.slice(5) }, select: { id: true, hostGroupId: true } });
    return host ? canOnHost(viewer, permission, host) : hasGlobal(viewer, permission);
  }
  return holdsOn(viewer, permission, { type: "hostGroup", id: scopeKey.slice(10) });
}

function toView(s: Row, ruleNames: Map<string, string>, now: Date): SilenceView {
  return {
    id: s.id,
    ruleId: s.ruleId,
    ruleName: s.ruleId ? (ruleNames.get(s.ruleId) ?? null) : null,
    scopeKey: s.scopeKey,
    labelSelector: (s.labelSelector ?? {}) as Record<string, string>,
    comment: s.comment,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    endedAt: s.endedAt,
    active: silenceActive(silenceOf(s), now),
    createdByLabel: s.createdByLabel,
  };
}

async function ruleNames(db: Db, rows: Row[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.flatMap((r) => (r.ruleId ? [r.ruleId] : [])))];
  if (!ids.length) return new Map();
  return new Map((await db.alertRule.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((r) => [r.id, r.name]));
}

/** Silences whose scope the viewer may read alerts of; current ones, or (includeEnded) the last 500. */
export async function listSilences(db: Db, viewer: Viewer, includeEnded: boolean): Promise<SilenceView[]> {
  if (!hasPermission(viewer, "alerts.read")) throw new AppError("FORBIDDEN", "You need the alerts.read permission.");
  const now = new Date();
  const where: Prisma.SilenceWhereInput = includeEnded ? {} : { endedAt: null, endsAt: { gt: now } };
  const rows = await db.silence.findMany({ where, orderBy: { createdAt: "desc" }, take: 500 });
  const visible: Row[] = [];
  for (const r of rows) if (await mayOnScope(db, viewer, "alerts.read", r.scopeKey)) visible.push(r);
  const names = await ruleNames(db, visible);
  return visible.map((r) => toView(r, names, now));
}

export async function createSilence(db: Db, viewer: Viewer, input: SilenceInput): Promise<SilenceView> {
  const now = new Date();
  if (!(await mayOnScope(db, viewer, "alerts.silence", input.scopeKey))) {
    throw new AppError("FORBIDDEN", input.scopeKey && input.scopeKey !== "all" ? "You need the alerts.silence permission over this scope." : "A silence for all hosts needs alerts.silence everywhere.");
  }
  if (!input.ruleId && !input.scopeKey && !Object.keys(input.labelSelector).length) throw new AppError("BAD_REQUEST", "Name what to silence: a rule, a scope or container labels.");
  if (input.endsAt.getTime() <= now.getTime()) throw new AppError("BAD_REQUEST", "The end time must be in the future.");
  if (input.endsAt.getTime() - now.getTime() > MAX_SILENCE_MS) throw new AppError("BAD_REQUEST", "A silence lasts at most a year.");
  if (input.ruleId && !(await db.alertRule.findUnique({ where: { id: input.ruleId }, select: { id: true } }))) throw new AppError("BAD_REQUEST", "No such alert rule.");
  if (input.scopeKey?.startsWith("host:") && !(await db.host.findUnique({ where: { id: input.scopeKey.slice(5) }, select: { id: true } }))) {
    throw new AppError("BAD_REQUEST", "The scope names a host that doesn't exist.");
  }
  if (input.scopeKey?.startsWith("hostGroup:") && !(await db.hostGroup.findUnique({ where: { id: input.scopeKey.slice(10) }, select: { id: true } }))) {
    throw new AppError("BAD_REQUEST", "The scope names a host group that doesn't exist.");
  }
  const row = await db.silence.create({
    data: {
      id: newId(),
      ruleId: input.ruleId,
      scopeKey: input.scopeKey,
      labelSelector: input.labelSelector,
      comment: input.comment,
      startsAt: now,
      endsAt: input.endsAt,
      createdById: viewer.user.id,
      createdByLabel: viewer.user.name ?? viewer.user.email,
    },
  });
  return toView(row, await ruleNames(db, [row]), now);
}

export async function endSilence(db: Db, viewer: Viewer, silenceId: string): Promise<SilenceView> {
  const row = await db.silence.findUnique({ where: { id: silenceId } });
  if (!row || !(await mayOnScope(db, viewer, "alerts.silence", row.scopeKey))) throw new AppError("FORBIDDEN", "You need the alerts.silence permission over this silence's scope (or it doesn't exist).");
  const now = new Date();
  if (!silenceActive(silenceOf(row), now)) throw new AppError("BAD_REQUEST", "This silence has ended already.");
  const updated = await db.silence.update({ where: { id: row.id }, data: { endedAt: now } });
  return toView(updated, await ruleNames(db, [updated]), now);
}

export async function silenceScopeHost(db: Db, silenceId: string): Promise<string | null> {
  const row = await db.silence.findUnique({ where: { id: silenceId }, select: { scopeKey: true } });
  return row?.scopeKey?.startsWith("host:") ? row.scopeKey.slice(5) : null;
}
