import "server-only";
import type { ChannelKind, ChannelView, NotificationView } from "../../lib/alerts/views";
import type { Db } from "../db";
import { AppError } from "../errors";
import { Prisma, type AlertChannel } from "../generated/prisma/client";
import type { SecretBox } from "../secrets/cipher";
import { type ChannelConfigInput, type ChannelSettings, mergeSettings, sealSecrets, settingsOf, storedForm } from "./config";
import { testFacts } from "./facts";
import { send, verifyEmail, type SendResult } from "./send";
import { generateSigningKey } from "./sign";

// Notification channels: saving (validated: a bad URL, an SMTP server that
// can't be reached or refuses the login is refused with the reason), listing
// (never a secret: hasSecret only), removing, a test-send now, and the
// deliveries (the queue's rows) with their failures.

export interface ChannelCreated extends ChannelView {
  /** The generated HMAC signing key of a new webhook channel: shown this once, never again. Null when one was given. */
  generatedSecret: string | null;
}

export interface ChannelDeps {
  db: Db;
  box: SecretBox;
  /** SMTP verify and test-send timeout. */
  timeoutMs?: number;
}

const FAILING_WINDOW_MS = 24 * 3600_000;

export async function listChannels(db: Db): Promise<ChannelView[]> {
  const rows = await db.alertChannel.findMany({ orderBy: { name: "asc" } });
  return viewsOf(db, rows);
}

async function viewsOf(db: Db, rows: AlertChannel[]): Promise<ChannelView[]> {
  if (!rows.length) return [];
  const failing = await db.alertNotification.groupBy({
    by: ["channelId"],
    where: { channelId: { in: rows.map((r) => r.id) }, status: { in: ["failed", "dead"] }, createdAt: { gte: new Date(Date.now() - FAILING_WINDOW_MS) } },
    _count: { _all: true },
  });
  const counts = new Map(failing.map((f) => [f.channelId, f._count._all]));
  return rows.map((r) => viewOf(r, counts.get(r.id) ?? 0));
}

export function viewOf(r: AlertChannel, failing: number): ChannelView {
  const { hasSecret, ...config } = (r.config ?? {}) as Record<string, unknown>;
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as ChannelKind,
    config,
    hasSecret: hasSecret === true,
    enabled: r.enabled,
    lastDeliveryAt: r.lastDeliveryAt,
    lastError: r.lastError,
    failing,
  };
}

/** Refuses settings that can't work: an SMTP server that can't be reached, won't start TLS or refuses the login. */
async function checkReachable(settings: ChannelSettings, timeoutMs: number | undefined): Promise<void> {
  if (settings.kind !== "email") return;
  const r = await verifyEmail(settings, timeoutMs ?? 8_000);
  if (!r.ok) throw new AppError("BAD_REQUEST", `Not saved: ${r.error}`);
}

function conflict(name: string) {
  return (e: unknown): never => {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") throw new AppError("CONFLICT", `A channel named "${name}" already exists.`);
    throw e;
  };
}

export async function createChannel(d: ChannelDeps, input: { name: string; enabled: boolean; config: ChannelConfigInput }, createdById: string | null): Promise<ChannelCreated> {
  const name = input.name.trim();
  if (await d.db.alertChannel.findUnique({ where: { name } })) throw new AppError("CONFLICT", `A channel named "${name}" already exists.`);
  const { settings, generatedKey } = mergeSettings(input.config, null, generateSigningKey);
  await checkReachable(settings, d.timeoutMs);
  const stored = storedForm(settings);
  const row = await d.db.alertChannel
    .create({ data: { name, kind: settings.kind, enabled: input.enabled, config: stored.config as Prisma.InputJsonValue, secret: sealSecrets(d.box, stored.secrets), createdById } })
    .catch(conflict(name));
  return { ...viewOf(row, 0), generatedSecret: generatedKey };
}

export async function updateChannel(d: ChannelDeps, input: { id: string; name?: string; enabled?: boolean; config?: ChannelConfigInput }): Promise<ChannelView> {
  const row = await d.db.alertChannel.findUnique({ where: { id: input.id } });
  if (!row) throw new AppError("NOT_FOUND", "No such channel.");
  const data: Prisma.AlertChannelUpdateInput = {};
  if (input.name !== undefined) data.name = input.name.trim();
  if (input.enabled !== undefined) data.enabled = input.enabled;
  if (input.config) {
    let saved: ChannelSettings | null = null;
    try {
      saved = settingsOf(d.box, row);
    } catch {
      saved = null; // unreadable (key changed): every secret must be given again
    }
    const { settings } = mergeSettings(input.config, { kind: row.kind, settings: saved }, () => {
      throw new AppError("BAD_REQUEST", "Give the webhook's signing secret (the saved one can't be read).");
    });
    await checkReachable(settings, d.timeoutMs);
    const stored = storedForm(settings);
    data.kind = settings.kind;
    data.config = stored.config as Prisma.InputJsonValue;
    data.secret = sealSecrets(d.box, stored.secrets);
    data.lastError = null;
  }
  const updated = await d.db.alertChannel.update({ where: { id: row.id }, data }).catch(conflict(input.name ?? row.name));
  return (await viewsOf(d.db, [updated]))[0]!;
}

export async function removeChannel(db: Db, id: string): Promise<void> {
  const row = await db.alertChannel.findUnique({ where: { id } });
  if (!row) throw new AppError("NOT_FOUND", "No such channel.");
  await db.$transaction([
    // Rules stop naming it; queued messages to it are dropped (they could never be sent).
    db.$executeRaw`UPDATE "AlertRule" SET "channelIds" = array_remove("channelIds", ${id}) WHERE ${id} = ANY("channelIds")`,
    db.alertNotification.updateMany({ where: { channelId: id, status: { in: ["pending", "failed"] } }, data: { status: "dead", lastError: "The channel was removed." } }),
    db.alertChannel.delete({ where: { id } }),
  ]);
}

/** Sends a test message now (not queued, not retried) and records it among the deliveries. */
export async function testSendChannel(d: ChannelDeps, id: string): Promise<{ ok: boolean; error: string | null }> {
  const row = await d.db.alertChannel.findUnique({ where: { id } });
  if (!row) throw new AppError("NOT_FOUND", "No such channel.");
  const notification = await d.db.alertNotification.create({ data: { channelId: id, kind: "test", status: "pending", attempts: 1, nextAttemptAt: new Date(Date.now() + 3600_000) } });
  let result: SendResult;
  try {
    result = await send(settingsOf(d.box, row), { notificationId: notification.id, kind: "test", alert: testFacts(row.name) }, { timeoutMs: d.timeoutMs ?? 8_000 });
  } catch (e) {
    result = { ok: false, error: `The channel's settings can't be read: ${e instanceof Error ? e.message : String(e)}`, permanent: true };
  }
  const now = new Date();
  await d.db.alertNotification.update({
    where: { id: notification.id },
    data: result.ok ? { status: "sent", sentAt: now, nextAttemptAt: now } : { status: "dead", lastError: result.error, nextAttemptAt: now },
  });
  await d.db.alertChannel.update({ where: { id }, data: result.ok ? { lastDeliveryAt: now, lastError: null } : { lastError: result.error } });
  return result.ok ? { ok: true, error: null } : { ok: false, error: result.error };
}

export async function listDeliveries(db: Db, q: { channelId?: string; alertId?: string; limit: number }): Promise<NotificationView[]> {
  const rows = await db.alertNotification.findMany({
    where: { ...(q.channelId ? { channelId: q.channelId } : {}), ...(q.alertId ? { alertId: q.alertId } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: q.limit,
  });
  const channels = await db.alertChannel.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.channelId))] } }, select: { id: true, name: true } });
  const names = new Map(channels.map((c) => [c.id, c.name]));
  return rows.map((r) => ({
    id: r.id,
    alertId: r.alertId,
    channelId: r.channelId,
    channelName: names.get(r.channelId) ?? "(removed)",
    kind: r.kind as NotificationView["kind"],
    status: r.status as NotificationView["status"],
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt,
    lastError: r.lastError,
    sentAt: r.sentAt,
    createdAt: r.createdAt,
  }));
}
