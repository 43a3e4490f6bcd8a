import "server-only";
import { db as defaultDb, type Db } from "../db";
import type { FleetServices } from "../fleet/instance";
import type { SecretBox } from "../secrets/cipher";
import { nextRetryDelayMs, RETRY_SECONDS } from "./backoff";
import { settingsOf } from "./config";
import { alertFacts, consoleOrigin } from "./facts";
import type { NotificationKind } from "./render";
import { DEFAULT_SEND_TIMEOUT_MS, send, type SendResult } from "./send";

// The notification delivery worker, a background loop on every gateway. The
// alert engine inserts AlertNotification rows (status "pending", one per
// channel of the rule) and calls kickNotifications(); each tick claims the
// rows whose nextAttemptAt has come with one statement (FOR UPDATE SKIP
// LOCKED), moving nextAttemptAt on by a lease so a gateway that dies mid-send
// leaves them to be tried again, never lost, and two gateways never send the
// same row at once. A batch is sent concurrently, each send with a timeout;
// a failure is recorded (attempts, lastError, on the row and the channel) and
// retried on the backoff schedule, or the row is "dead".

// The same global hook the engine's server/alerts/kick.ts calls (either module may be loaded first, in either bundle).
const holder = globalThis as unknown as { berthNotifyKick?: (() => void) | undefined };

/** Wakes the delivery worker of this process (a no-op when none runs). */
export function kickNotifications(): void {
  holder.berthNotifyKick?.();
}

export interface NotifyWorkerOptions {
  db?: Db;
  /** How often to look for due rows when not woken. */
  pollMs?: number;
  /** At most this many rows per tick. */
  batch?: number;
  /** Seconds before retry n (1-based); its length is how many retries there are. */
  retrySeconds?: readonly number[];
  sendTimeoutMs?: number;
  /** Where links point (the console's public origin). */
  origin?: string;
  log?: (line: string) => void;
}

/** A claimed row is someone's for this long; then another tick may take it again. */
const LEASE_SECONDS = 120;

interface Claimed {
  id: string;
  alertId: string | null;
  channelId: string;
  kind: string;
  attempts: number;
}

/** Claims up to `batch` due rows, counting the attempt and leasing them. */
export async function claimDueNotifications(db: Db, batch: number): Promise<Claimed[]> {
  return db.$queryRaw<Claimed[]>`
    WITH due AS (
      SELECT "id" FROM "AlertNotification"
      WHERE "status" IN ('pending', 'failed') AND "nextAttemptAt" <= now()
      ORDER BY "nextAttemptAt"
      LIMIT ${batch}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE "AlertNotification" AS n
    SET "attempts" = n."attempts" + 1, "nextAttemptAt" = now() + make_interval(secs => ${LEASE_SECONDS})
    FROM due WHERE n."id" = due."id"
    RETURNING n."id", n."alertId", n."channelId", n."kind", n."attempts"`;
}

export interface DeliverDeps {
  db: Db;
  box: SecretBox;
  retrySeconds?: readonly number[];
  sendTimeoutMs?: number;
  origin?: string;
}

/** Sends one claimed row and records how it went. Never throws for a send failure. */
export async function deliverClaimed(d: DeliverDeps, row: Claimed): Promise<SendResult> {
  const channel = await d.db.alertChannel.findUnique({ where: { id: row.channelId } });
  let result: SendResult;
  if (!channel) result = { ok: false, error: "The channel was removed.", permanent: true };
  else if (!channel.enabled) result = { ok: false, error: "The channel is disabled.", permanent: true };
  else {
    const facts = row.alertId ? await alertFacts(d.db, row.alertId, d.origin ?? consoleOrigin()) : null;
    if (!facts) result = { ok: false, error: "The alert no longer exists.", permanent: true };
    else {
      try {
        const settings = settingsOf(d.box, channel);
        result = await send(settings, { notificationId: row.id, kind: row.kind as NotificationKind, alert: facts }, { timeoutMs: d.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS });
      } catch (e) {
        result = { ok: false, error: `The channel's settings can't be read: ${e instanceof Error ? e.message : String(e)}`, permanent: true };
      }
    }
  }
  await record(d, row, channel, result);
  return result;
}

async function record(d: DeliverDeps, row: Claimed, channel: { id: string; name: string } | null, result: SendResult): Promise<void> {
  const now = new Date();
  const channelId = channel?.id ?? null;
  const channelName = channel ? `channel "${channel.name}"` : "a removed channel";
  if (result.ok) {
    // lastError stays: a message that went out on a retry still shows what failed before.
    await d.db.alertNotification.update({ where: { id: row.id }, data: { status: "sent", sentAt: now, nextAttemptAt: now } });
    if (channelId) await d.db.alertChannel.update({ where: { id: channelId }, data: { lastDeliveryAt: now, lastError: null } });
    if (row.alertId) await noteOnAlert(d.db, row.alertId, row.kind === "resolved" ? "notified" : row.kind === "repeat" ? "repeated" : "notified", now, `Sent (${row.kind}) to ${channelName}`);
    return;
  }
  const delay = result.permanent ? null : nextRetryDelayMs(row.attempts, d.retrySeconds ?? RETRY_SECONDS);
  const error = result.error.slice(0, 1000);
  await d.db.alertNotification.update({
    where: { id: row.id },
    data: delay === null ? { status: "dead", lastError: error, nextAttemptAt: now } : { status: "failed", lastError: error, nextAttemptAt: new Date(now.getTime() + delay) },
  });
  if (channelId) await d.db.alertChannel.update({ where: { id: channelId }, data: { lastError: error } }).catch(() => {});
  if (row.alertId && delay === null) await noteOnAlert(d.db, row.alertId, "failed", now, `Gave up sending (${row.kind}) to ${channelName} after ${row.attempts} attempt(s): ${error}`);
}

/** An entry on the alert's timeline: a message went out, or was given up (the engine keeps its counters). */
async function noteOnAlert(db: Db, alertId: string, event: "notified" | "repeated" | "failed", at: Date, message: string): Promise<void> {
  // One statement: append to the JSON array (capped at 200 entries) without reading it first.
  await db.$executeRaw`
    UPDATE "Alert" SET
      "timeline" = (CASE WHEN jsonb_array_length("timeline") >= 200 THEN "timeline" - 0 ELSE "timeline" END) || jsonb_build_array(jsonb_build_object('at', ${at.toISOString()}::text, 'event', ${event}::text, 'message', ${message}::text))
    WHERE "id" = ${alertId}`.catch(() => {});
}

/** One pass: claim and send due rows until none is left or `maxRounds` batches went out. */
export async function deliverDue(d: DeliverDeps & { batch?: number; maxRounds?: number }): Promise<number> {
  let sent = 0;
  for (let round = 0; round < (d.maxRounds ?? 5); round++) {
    const rows = await claimDueNotifications(d.db, d.batch ?? 20);
    if (!rows.length) break;
    await Promise.all(rows.map((r) => deliverClaimed(d, r)));
    sent += rows.length;
  }
  return sent;
}

export function startNotifyWorker(services: Pick<FleetServices, "box">, o: NotifyWorkerOptions = {}): () => Promise<void> {
  const db = o.db ?? defaultDb();
  const log = o.log ?? ((line: string) => console.error(`[berth] notify: ${line}`));
  const deps = { db, box: services.box, retrySeconds: o.retrySeconds, sendTimeoutMs: o.sendTimeoutMs, origin: o.origin, batch: o.batch };
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  const tick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = deliverDue(deps)
      .then(() => undefined)
      .catch((e: unknown) => log(`delivery pass failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        running = null;
        if (again && !stopped) {
          again = false;
          tick();
        }
      });
  };
  const timer = setInterval(tick, o.pollMs ?? 2_000);
  timer.unref();
  const wake = () => tick();
  holder.berthNotifyKick = wake;
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (holder.berthNotifyKick === wake) holder.berthNotifyKick = undefined;
    await running;
  };
}
