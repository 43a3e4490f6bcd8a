import "server-only";
import type { StatsPoint } from "../../lib/alerts/views";
import { canOnHost, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import { MINUTE_MS } from "./sample-math";

// stats.history and its REST twins: a host's (containerId absent) or a
// container's StatSample rows over the last `hours`, oldest first, at the
// collector's 1-minute resolution. Needs hosts.read (host) or containers.read
// (container) on the host; an unknown host is refused like a forbidden one.

export interface HistoryQuery {
  hostId: string;
  /** Full id, a unique prefix of it, or the container's name; absent: the host's own series. */
  containerId?: string;
  hours: number;
}

export interface StatsHistory {
  points: StatsPoint[];
  resolutionSeconds: number;
  /** The container's full id the points belong to ("" for the host). */
  containerId: string;
}

/** A host can't hold more points than this many minutes (24 h): the answer is bounded. */
const MAX_POINTS = 24 * 60 + 1;

export async function statsHistory(db: Db, viewer: Viewer, q: HistoryQuery, now = new Date()): Promise<StatsHistory> {
  const permission = q.containerId ? "containers.read" : "hosts.read";
  const host = await db.host.findUnique({ where: { id: q.hostId } });
  if (!host || !canOnHost(viewer, permission, host)) throw new AppError("FORBIDDEN", `You need the ${permission} permission on this host.`);
  const containerId = q.containerId ? await resolveContainer(db, q.hostId, q.containerId) : "";
  const since = new Date(now.getTime() - q.hours * 3_600_000);
  const rows = await db.statSample.findMany({
    where: { hostId: q.hostId, containerId, at: { gte: since } },
    orderBy: { at: "asc" },
    take: MAX_POINTS,
  });
  return {
    containerId,
    resolutionSeconds: MINUTE_MS / 1000,
    points: rows.map((r) => ({
      at: r.at,
      cpuPercent: r.cpuPercent,
      memoryBytes: Number(r.memoryBytes),
      memoryLimitBytes: r.memoryLimitBytes === null ? null : Number(r.memoryLimitBytes),
      netRxBytes: Number(r.netRxBytes),
      netTxBytes: Number(r.netTxBytes),
      blockReadBytes: Number(r.blockReadBytes),
      blockWriteBytes: Number(r.blockWriteBytes),
    })),
  };
}

/** The full id the samples are stored under: the id itself, else a unique id prefix, else the name. An unknown one has no points. */
async function resolveContainer(db: Db, hostId: string, key: string): Promise<string> {
  const exact = await db.statSample.findFirst({ where: { hostId, containerId: key }, select: { containerId: true } });
  if (exact) return key;
  if (/^[a-f0-9]{3,64}$/.test(key)) {
    const ids = await db.statSample.findMany({ where: { hostId, containerId: { startsWith: key } }, distinct: ["containerId"], select: { containerId: true }, take: 2 });
    if (ids.length > 1) throw new AppError("BAD_REQUEST", `More than one container's id starts with ${key}: give more of it.`);
    if (ids.length === 1) return ids[0]!.containerId;
  }
  const named = await db.statSample.findFirst({ where: { hostId, containerName: key.replace(/^\//, "") }, orderBy: { at: "desc" }, select: { containerId: true } });
  return named?.containerId ?? key;
}
