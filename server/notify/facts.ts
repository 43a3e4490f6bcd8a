import "server-only";
import type { Db } from "../db";
import { env } from "../env";
import { publicOrigin } from "../http/same-origin";
import type { AlertFacts } from "./render";

// The facts a message tells about an alert: its rule, subject and times, and
// where its page is (BERTH_PUBLIC_URL, else the gateway's own address).

export function consoleOrigin(): string {
  try {
    return publicOrigin(env());
  } catch {
    return "http://127.0.0.1:3000";
  }
}

export function alertUrl(origin: string, alertId: string): string {
  return `${origin.replace(/\/+$/, "")}/alerts/${encodeURIComponent(alertId)}`;
}

export async function alertFacts(db: Db, alertId: string, origin = consoleOrigin()): Promise<AlertFacts | null> {
  const a = await db.alert.findUnique({ where: { id: alertId }, include: { rule: { select: { id: true, name: true, kind: true } } } });
  if (!a) return null;
  const host = a.hostId ? await db.host.findUnique({ where: { id: a.hostId }, select: { id: true, name: true } }) : null;
  return {
    id: a.id,
    ruleId: a.rule.id,
    rule: a.rule.name,
    kind: a.rule.kind,
    severity: a.severity,
    summary: a.summary,
    host: a.hostId ? { id: a.hostId, name: host?.name ?? a.hostId } : null,
    container: a.containerName ? { id: a.containerId, name: a.containerName } : null,
    startsAt: a.startsAt,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt,
    url: alertUrl(origin, a.id),
  };
}

/** What a test-send tells: a made-up info alert naming the channel. */
export function testFacts(channelName: string, origin = consoleOrigin(), now = new Date()): AlertFacts {
  return {
    id: "test",
    ruleId: null,
    rule: "Test",
    kind: "test",
    severity: "info",
    summary: `Test notification from Berth to channel "${channelName}"`,
    host: null,
    container: null,
    startsAt: now,
    firedAt: now,
    resolvedAt: null,
    url: `${origin.replace(/\/+$/, "")}/alerts`,
  };
}
