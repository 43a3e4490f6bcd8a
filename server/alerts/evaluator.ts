import "server-only";
import { randomBytes } from "node:crypto";
import { alertKindSchema, type AlertKind } from "../../lib/alerts/kinds";
import { onObservation, onTick, observe, RestartTracker, ruleParams, silenceActive, silenceMatches, type HostRef, type Observation, type OpenAlert, type RuleLike, type SilenceLike, type Transition } from "../../lib/alerts/machine";
import type { Db } from "../db";
import { Prisma } from "../generated/prisma/client";
import { kickNotifications } from "./kick";
import { onSignal, type AlertSignal } from "./signals";

// The alert evaluator: listens on the signal bus, and ticks (for "for"
// durations, quiet periods, repeats and silences ending). Each signal is
// turned into observations per enabled rule (lib/alerts/machine.ts), each
// observation into a transition of that rule+subject's open alert, applied to
// the database with conditional statements so several gateways can run it at
// once: a new alert is inserted "on conflict do nothing" (one unresolved
// alert per rule and subject, a partial unique index), and a transition only
// happens if the row is still in the state it was read in, so exactly one
// gateway fires, repeats or resolves it — and queues its notifications
// (AlertNotification rows, one per channel of the rule) in the same
// transaction, unless an active silence holds them back.

export interface EvaluatorOptions {
  db: Db;
  /** How often open alerts are looked at (default 5 s). */
  tickMs?: number;
  /** Event-like global alerts (rollout failed, deploy denied, lockout) resolve after this long without a new event (default 10 min). */
  quietMs?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

interface RuleRow extends RuleLike {
  name: string;
  severity: string;
  channelIds: string[];
}

interface AlertRow {
  id: string;
  ruleId: string;
  subjectKey: string;
  hostId: string | null;
  status: "pending" | "firing" | "resolved";
  startsAt: Date;
  firedAt: Date | null;
  lastNotifiedAt: Date | null;
  details: Record<string, unknown>;
  silenceId: string | null;
}

type Tx = Pick<Db, "$queryRaw" | "$executeRaw" | "alertNotification" | "alertChannel" | "silence">;

const MAX_QUEUE = 10_000;
const TICK_BATCH = 500;
const MAX_TIMELINE = 200;

export function newId(): string {
  return `c${randomBytes(12).toString("hex")}`;
}

/** Text Postgres will store (no NUL), bounded. */
export function clean(s: string, max = 1000): string {
  const t = s.replace(/\u0000/g, "");
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function timelineAppend(at: Date, event: string, message: string): Prisma.Sql {
  const entry = JSON.stringify([{ at: at.toISOString(), event, message: clean(message) }]);
  return Prisma.sql`CASE WHEN jsonb_array_length("timeline") >= ${MAX_TIMELINE} THEN ("timeline" - 0) || ${entry}::jsonb ELSE "timeline" || ${entry}::jsonb END`;
}

function jsonOf(value: unknown): string {
  return clean(JSON.stringify(value ?? {}), 20_000);
}

const ALERT_COLUMNS = Prisma.sql`"id", "ruleId", "subjectKey", "hostId", "status", "startsAt", "firedAt", "lastNotifiedAt", "details", "silenceId"`;

function ruleOf(r: { id: string; name: string; kind: string; severity: string; scopeKey: string; labelSelector: unknown; params: unknown; forSeconds: number; repeatMinutes: number; channelIds: string[] }): RuleRow | null {
  const kind = alertKindSchema.safeParse(r.kind);
  if (!kind.success) return null;
  return {
    id: r.id,
    name: r.name,
    kind: kind.data as AlertKind,
    severity: r.severity,
    scopeKey: r.scopeKey,
    labelSelector: (r.labelSelector && typeof r.labelSelector === "object" ? r.labelSelector : {}) as Record<string, string>,
    params: ruleParams(kind.data, r.params),
    forSeconds: r.forSeconds,
    repeatMinutes: r.repeatMinutes,
    channelIds: r.channelIds,
  };
}

export function silenceOf(s: { id: string; ruleId: string | null; scopeKey: string | null; labelSelector: unknown; startsAt: Date; endsAt: Date; endedAt: Date | null }): SilenceLike {
  return { ...s, labelSelector: (s.labelSelector && typeof s.labelSelector === "object" ? s.labelSelector : {}) as Record<string, string> };
}

export class AlertEvaluator {
  private readonly restarts = new RestartTracker();
  private rules: RuleRow[] | null = null;
  private hosts = new Map<string, HostRef & { name: string }>();
  private readonly queue: AlertSignal[] = [];
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private dropped = 0;

  constructor(private readonly o: EvaluatorOptions) {}

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  private log(line: string): void {
    (this.o.log ?? ((l) => console.error(`[berth] alerts: ${l}`)))(line);
  }

  start(): void {
    this.unsubscribe = onSignal((s) => this.push(s));
    const every = this.o.tickMs ?? 5_000;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.draining;
    await this.ticking;
  }

  /** Rules changed (this gateway's routers say so); others see it at their next tick. */
  invalidate(): void {
    this.rules = null;
  }

  /** Queues a signal (bounded: the oldest go first when the queue is full). */
  push(s: AlertSignal): void {
    if (this.stopped) return;
    this.queue.push(s);
    if (this.queue.length > MAX_QUEUE) {
      this.queue.shift();
      if (this.dropped++ % 1000 === 0) this.log(`signal queue full (${MAX_QUEUE}); dropping the oldest`);
    }
    this.draining ??= this.drain().finally(() => (this.draining = null));
  }

  /** Resolves when every queued signal has been handled (tests, and stop). */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    for (let s = this.queue.shift(); s; s = this.queue.shift()) {
      try {
        await this.handle(s);
      } catch (e) {
        this.log(`signal ${s.type} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async loadRules(): Promise<RuleRow[]> {
    if (this.rules) return this.rules;
    const rows = await this.o.db.alertRule.findMany({ where: { enabled: true }, orderBy: { createdAt: "asc" }, take: 1000 });
    this.rules = rows.map(ruleOf).filter((r): r is RuleRow => r !== null);
    return this.rules;
  }

  private async host(hostId: string | null): Promise<(HostRef & { name: string }) | null> {
    if (!hostId) return null;
    const known = this.hosts.get(hostId);
    if (known) return known;
    const row = await this.o.db.host.findUnique({ where: { id: hostId }, select: { id: true, hostGroupId: true, name: true } });
    if (row) this.hosts.set(row.id, row);
    return row;
  }

  async handle(s: AlertSignal): Promise<void> {
    this.restarts.note(s);
    const rules = await this.loadRules();
    const host = await this.host("hostId" in s ? s.hostId : null);
    // A host that is gone: its signals concern nobody.
    if ("hostId" in s && s.hostId && !host) return;
    for (const rule of rules) {
      for (const obs of observe(rule, s, host, this.restarts)) await this.apply(rule, obs);
    }
  }

  private async openAlert(ruleId: string, subjectKey: string): Promise<AlertRow | null> {
    const rows = await this.o.db.$queryRaw<AlertRow[]>`SELECT ${ALERT_COLUMNS} FROM "Alert" WHERE "ruleId" = ${ruleId} AND "subjectKey" = ${subjectKey} AND "status" <> 'resolved' LIMIT 1`;
    return rows[0] ?? null;
  }

  private async apply(rule: RuleRow, obs: Observation): Promise<void> {
    const open = await this.openAlert(rule.id, obs.subjectKey);
    const now = this.now();
    const t = onObservation(open as OpenAlert | null, obs, rule, now);
    if (!t) return;
    if (t.type === "open") return this.open(rule, obs, t.status, now);
    await this.transition(rule, open!, t, now, obs);
  }

  private async open(rule: RuleRow, obs: Observation, status: "pending" | "firing", now: Date): Promise<void> {
    const id = newId();
    const details = { ...obs.details, labels: obs.labels };
    await this.o.db.$transaction(async (tx) => {
      const firstEntry = JSON.stringify([{ at: now.toISOString(), event: "pending", message: clean(obs.summary) }]);
      const inserted = await tx.$queryRaw<AlertRow[]>`
        INSERT INTO "Alert" ("id", "ruleId", "subjectKey", "hostId", "containerId", "containerName", "status", "severity", "summary", "details", "timeline", "startsAt", "firedAt")
        VALUES (${id}, ${rule.id}, ${obs.subjectKey}, ${obs.hostId}, ${obs.containerId}, ${obs.containerName}, ${status}, ${rule.severity}, ${clean(obs.summary)},
                ${jsonOf(details)}::jsonb, ${firstEntry}::jsonb, ${now}, ${status === "firing" ? now : null})
        ON CONFLICT DO NOTHING
        RETURNING ${ALERT_COLUMNS}`;
      const row = inserted[0];
      if (!row || status !== "firing") return;
      await tx.$executeRaw`UPDATE "Alert" SET "timeline" = ${timelineAppend(now, "fired", "Fired")} WHERE "id" = ${row.id}`;
      await this.notify(tx, rule, row, "firing", now);
    });
    kickNotifications();
  }

  private async transition(rule: RuleRow, open: AlertRow, t: Exclude<Transition, { type: "open" }>, now: Date, obs?: Observation): Promise<void> {
    let queued = false;
    await this.o.db.$transaction(async (tx) => {
      switch (t.type) {
        case "fire": {
          const rows = await tx.$queryRaw<AlertRow[]>`
            UPDATE "Alert" SET "status" = 'firing', "firedAt" = ${now}, "timeline" = ${timelineAppend(now, "fired", `Fired (held for ${rule.forSeconds} s)`)}
            WHERE "id" = ${open.id} AND "status" = 'pending' RETURNING ${ALERT_COLUMNS}`;
          if (rows[0]) queued = await this.notify(tx, rule, rows[0], "firing", now);
          return;
        }
        case "touch": {
          if (!obs) return;
          await tx.$executeRaw`
            UPDATE "Alert" SET "details" = "details" || ${jsonOf({ ...obs.details, labels: obs.labels })}::jsonb, "summary" = ${clean(obs.summary)}
            WHERE "id" = ${open.id} AND "status" <> 'resolved'`;
          return;
        }
        case "resolve": {
          const rows = await tx.$queryRaw<(AlertRow & { was: string })[]>`
            UPDATE "Alert" a SET "status" = 'resolved', "resolvedAt" = ${now}, "timeline" = ${timelineAppend(now, "resolved", t.reason)}
            FROM (SELECT "id", "status" AS was FROM "Alert" WHERE "id" = ${open.id} AND "status" <> 'resolved' FOR UPDATE) old
            WHERE a."id" = old."id" RETURNING a."id", a."ruleId", a."subjectKey", a."hostId", a."status", a."startsAt", a."firedAt", a."lastNotifiedAt", a."details", a."silenceId", old.was`;
          const row = rows[0];
          if (row && row.was === "firing") queued = await this.notify(tx, rule, row, "resolved", now);
          return;
        }
        case "repeat": {
          const rows = await tx.$queryRaw<AlertRow[]>`
            SELECT ${ALERT_COLUMNS} FROM "Alert" WHERE "id" = ${open.id} AND "status" = 'firing'
              AND "lastNotifiedAt" IS NOT DISTINCT FROM ${open.lastNotifiedAt} FOR UPDATE SKIP LOCKED`;
          if (rows[0]) queued = await this.notify(tx, rule, rows[0], "repeat", now);
          return;
        }
      }
    });
    if (queued) kickNotifications();
  }

  /**
   * Queues one notification per channel of the rule, unless an active silence
   * matches (then it is held back: the alert remembers the silence, and is
   * sent again when the silence ends if it still fires). Returns whether rows
   * were queued. Runs inside the transition's transaction.
   */
  private async notify(tx: Tx, rule: RuleRow, alert: AlertRow, kind: "firing" | "repeat" | "resolved", now: Date): Promise<boolean> {
    const silence = await this.matchingSilence(tx, alert, now);
    if (silence) {
      const message = `Held back (${kind}) by a silence${silence.createdByLabel ? ` of ${silence.createdByLabel}` : ""} until ${silence.endsAt.toISOString()}: ${silence.comment}`;
      await tx.$executeRaw`UPDATE "Alert" SET "silenceId" = ${silence.id}, "timeline" = ${timelineAppend(now, "silenced", message)} WHERE "id" = ${alert.id}`;
      return false;
    }
    const channels = rule.channelIds.length ? await tx.alertChannel.findMany({ where: { id: { in: rule.channelIds } }, select: { id: true, name: true } }) : [];
    if (channels.length) await tx.alertNotification.createMany({ data: channels.map((c) => ({ id: newId(), alertId: alert.id, channelId: c.id, kind, status: "pending", nextAttemptAt: now, createdAt: now })) });
    const event = kind === "repeat" ? "repeated" : kind === "resolved" ? "resolved" : "notified";
    const to = channels.length ? `Queued for ${channels.map((c) => c.name).join(", ")}` : "No channel on the rule: nobody was sent it";
    await tx.$executeRaw`
      UPDATE "Alert" SET "lastNotifiedAt" = ${now}, "notifyCount" = "notifyCount" + 1, "silenceId" = NULL,
        "timeline" = ${timelineAppend(now, event, `${kind === "resolved" ? "Resolved message" : kind === "repeat" ? "Repeat" : "Firing message"}: ${to}`)}
      WHERE "id" = ${alert.id}`;
    return channels.length > 0;
  }

  private async matchingSilence(tx: Tx, alert: Pick<AlertRow, "ruleId" | "hostId" | "details">, now: Date) {
    const silences = await tx.silence.findMany({ where: { endedAt: null, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: { endsAt: "desc" }, take: 500 });
    if (!silences.length) return null;
    const host = await this.host(alert.hostId);
    const labels = (alert.details?.labels ?? {}) as Record<string, string>;
    return silences.find((s) => silenceActive(silenceOf(s), now) && silenceMatches(silenceOf(s), { ruleId: alert.ruleId, host, labels })) ?? null;
  }

  /** One pass over open alerts: "for" over, quiet periods, repeats, silences starting and ending. Bounded per pass. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.tickOnce()
      .catch((e: unknown) => this.log(`tick failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    this.rules = null;
    this.hosts.clear();
    const now = this.now();
    const rules = new Map((await this.loadRules()).map((r) => [r.id, r]));
    this.restarts.prune(new Date(now.getTime() - 24 * 3_600_000));
    let cursor: string | undefined;
    for (let pass = 0; pass < 20; pass++) {
      const open = await this.o.db.$queryRaw<AlertRow[]>`
        SELECT ${ALERT_COLUMNS} FROM "Alert" WHERE "status" <> 'resolved' ${cursor ? Prisma.sql`AND "id" > ${cursor}` : Prisma.empty} ORDER BY "id" LIMIT ${TICK_BATCH}`;
      for (const alert of open) {
        const rule = rules.get(alert.ruleId);
        const gone = alert.hostId !== null && !(await this.host(alert.hostId));
        if (!rule || gone) {
          // Its rule was disabled (or removed on another gateway), or its host removed: nothing holds it open, nobody is told.
          await this.o.db.$executeRaw`
            UPDATE "Alert" SET "status" = 'resolved', "resolvedAt" = ${now}, "timeline" = ${timelineAppend(now, "resolved", gone ? "Its host was removed" : "Its rule is disabled")}
            WHERE "id" = ${alert.id} AND "status" <> 'resolved'`;
          continue;
        }
        try {
          await this.tickAlert(rule, alert, now);
        } catch (e) {
          this.log(`alert ${alert.id}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (open.length < TICK_BATCH) break;
      cursor = open[open.length - 1]!.id;
    }
  }

  private async tickAlert(rule: RuleRow, alert: AlertRow, now: Date): Promise<void> {
    const t = onTick(alert as OpenAlert, rule, now, this.o.quietMs ?? 600_000);
    if (t && t.type !== "repeat" && t.type !== "open") return this.transition(rule, alert, t, now);
    if (alert.status !== "firing") return;
    const silence = await this.matchingSilence(this.o.db, alert, now);
    if (silence && alert.silenceId !== silence.id) {
      const message = `Silenced${silence.createdByLabel ? ` by ${silence.createdByLabel}` : ""} until ${silence.endsAt.toISOString()}: ${silence.comment}`;
      await this.o.db.$executeRaw`UPDATE "Alert" SET "silenceId" = ${silence.id}, "timeline" = ${timelineAppend(now, "silenced", message)} WHERE "id" = ${alert.id} AND "status" = 'firing'`;
      return;
    }
    if (silence) return;
    if (alert.silenceId) {
      // The silence ended and it still fires: tell them again (once: the conditional update decides who).
      let queued = false;
      await this.o.db.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<AlertRow[]>`SELECT ${ALERT_COLUMNS} FROM "Alert" WHERE "id" = ${alert.id} AND "status" = 'firing' AND "silenceId" = ${alert.silenceId} FOR UPDATE SKIP LOCKED`;
        if (!rows[0]) return;
        await tx.$executeRaw`UPDATE "Alert" SET "timeline" = ${timelineAppend(now, "notified", "The silence ended and it still fires")} WHERE "id" = ${alert.id}`;
        queued = await this.notify(tx, rule, rows[0], "firing", now);
      });
      if (queued) kickNotifications();
      return;
    }
    if (t?.type === "repeat") await this.transition(rule, alert, t, now);
  }
}

const holder = globalThis as unknown as { berthAlertEvaluator?: AlertEvaluator };

/** This gateway's evaluator, if it runs (the routers tell it that rules changed). */
export function currentEvaluator(): AlertEvaluator | null {
  return holder.berthAlertEvaluator ?? null;
}

export function setCurrentEvaluator(e: AlertEvaluator | null): void {
  holder.berthAlertEvaluator = e ?? undefined;
}
