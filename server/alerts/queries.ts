import "server-only";
import type { AlertKind, Severity } from "../../lib/alerts/kinds";
import { silenceActive } from "../../lib/alerts/machine";
import type { AlertDetail, AlertTimelineEntry, AlertView, NotificationView } from "../../lib/alerts/views";
import type { Page } from "../../lib/rollouts/views";
import { canOnHost, hasGlobal, hostCoverage, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { silenceOf } from "./evaluator";

// Alerts as the console and the API see them: only those of hosts the viewer
// may read alerts of (alerts.read), and alerts about no host (rollouts,
// sign-in, the audit chain) only with alerts.read everywhere.

/** The alerts the viewer may see, as a where clause (fails closed: no grant, nothing; no host only with a global grant). */
async function visibleWhere(db: Db, viewer: Viewer): Promise<Prisma.AlertWhereInput> {
  const c = hostCoverage(viewer, "alerts.read");
  if (c.all) return {};
  const inGroups = c.hostGroupIds.length ? (await db.host.findMany({ where: { hostGroupId: { in: c.hostGroupIds } }, select: { id: true } })).map((h) => h.id) : [];
  return { hostId: { in: [...new Set([...c.hostIds, ...inGroups])] } };
}

const include = { rule: { select: { name: true, kind: true } } } as const;
type Row = Prisma.AlertGetPayload<{ include: typeof include }>;

async function views(db: Db, rows: Row[]): Promise<AlertView[]> {
  const hostIds = [...new Set(rows.flatMap((r) => (r.hostId ? [r.hostId] : [])))];
  const silenceIds = [...new Set(rows.flatMap((r) => (r.silenceId ? [r.silenceId] : [])))];
  const [hosts, silences] = await Promise.all([
    hostIds.length ? db.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, name: true } }) : [],
    silenceIds.length ? db.silence.findMany({ where: { id: { in: silenceIds } } }) : [],
  ]);
  const now = new Date();
  return rows.map((r) => {
    const host = hosts.find((h) => h.id === r.hostId);
    const silence = silences.find((s) => s.id === r.silenceId);
    return {
      id: r.id,
      ruleId: r.ruleId,
      ruleName: r.rule.name,
      kind: r.rule.kind as AlertKind,
      severity: r.severity as Severity,
      status: r.status as AlertView["status"],
      subjectKey: r.subjectKey,
      summary: r.summary,
      host: r.hostId ? { id: r.hostId, name: host?.name ?? r.hostId } : null,
      container: r.containerName ? { id: r.containerId, name: r.containerName } : null,
      startsAt: r.startsAt,
      firedAt: r.firedAt,
      resolvedAt: r.resolvedAt,
      lastNotifiedAt: r.lastNotifiedAt,
      notifyCount: r.notifyCount,
      silencedBy:
        silence && r.status !== "resolved" && silenceActive(silenceOf(silence), now)
          ? { id: silence.id, comment: silence.comment, createdByLabel: silence.createdByLabel, endsAt: silence.endsAt }
          : null,
    };
  });
}

export interface AlertListInput {
  status?: ("pending" | "firing" | "resolved")[];
  hostId?: string;
  ruleId?: string;
  cursor?: string;
  limit: number;
}

export async function listAlerts(db: Db, viewer: Viewer, input: AlertListInput): Promise<Page<AlertView>> {
  const where: Prisma.AlertWhereInput = {
    AND: [
      await visibleWhere(db, viewer),
      input.status?.length ? { status: { in: input.status } } : {},
      input.hostId ? { hostId: input.hostId } : {},
      input.ruleId ? { ruleId: input.ruleId } : {},
    ],
  };
  const rows = await db.alert.findMany({
    where,
    include,
    orderBy: [{ startsAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
  });
  const items = await views(db, rows.slice(0, input.limit));
  return { items, nextCursor: rows.length > input.limit ? items[items.length - 1]!.id : null };
}

/** One alert; one the viewer may not see is refused like one that doesn't exist. */
export async function getAlert(db: Db, viewer: Viewer, alertId: string): Promise<AlertDetail> {
  const row = await db.alert.findUnique({ where: { id: alertId }, include });
  const host = row?.hostId ? await db.host.findUnique({ where: { id: row.hostId }, select: { id: true, hostGroupId: true } }) : null;
  const allowed = row && (row.hostId ? (host ? canOnHost(viewer, "alerts.read", host) : hasGlobal(viewer, "alerts.read")) : hasGlobal(viewer, "alerts.read"));
  if (!row || !allowed) throw new AppError("FORBIDDEN", "You need the alerts.read permission where this alert is (or it doesn't exist).");
  const [view] = await views(db, [row]);
  const notifications = await db.alertNotification.findMany({ where: { alertId: row.id }, orderBy: { createdAt: "asc" }, take: 500 });
  const channels = await db.alertChannel.findMany({ where: { id: { in: [...new Set(notifications.map((n) => n.channelId))] } }, select: { id: true, name: true } });
  return {
    ...view!,
    details: (row.details ?? {}) as Record<string, unknown>,
    timeline: (Array.isArray(row.timeline) ? row.timeline : []) as unknown as AlertTimelineEntry[],
    notifications: notifications.map(
      (n): NotificationView => ({
        id: n.id,
        alertId: n.alertId,
        channelId: n.channelId,
        channelName: channels.find((c) => c.id === n.channelId)?.name ?? "(removed channel)",
        kind: n.kind as NotificationView["kind"],
        status: n.status as NotificationView["status"],
        attempts: n.attempts,
        nextAttemptAt: n.nextAttemptAt,
        lastError: n.lastError,
        sentAt: n.sentAt,
        createdAt: n.createdAt,
      }),
    ),
  };
}

/** Firing alerts the viewer can see (the navigation's badge). */
export async function countFiring(db: Db, viewer: Viewer): Promise<{ firing: number; critical: number }> {
  const where = { AND: [await visibleWhere(db, viewer), { status: "firing" }] };
  const [firing, critical] = await Promise.all([db.alert.count({ where }), db.alert.count({ where: { AND: [...where.AND, { severity: "critical" }] } })]);
  return { firing, critical };
}
