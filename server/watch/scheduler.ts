import "server-only";
import { db as defaultDb, type Db } from "../db";
import type { FleetServices } from "../fleet/instance";
import { DEFAULT_TRACKER_OPTIONS, setUpdateTracker, UpdateTracker, type UpdateTrackerOptions } from "./update-available";
import { checkWatch } from "./watches";

// The registry watcher: a background loop on every gateway. Each tick claims
// the watches that are due with one statement (SELECT … FOR UPDATE SKIP
// LOCKED, moving their nextCheckAt on by their interval), so two gateways
// never check the same watch at once, then checks them one at a time. It also
// runs the "update available" tracker's rounds. Every tick is bounded (a batch
// of watches, a number of registry checks) and ticks never overlap.

export interface WatcherOptions {
  db?: Db;
  /** How often to look for due watches. */
  tickMs?: number;
  /** At most this many watches per tick. */
  batch?: number;
  /** How often the "update available" tracker runs a round. */
  trackerEveryMs?: number;
  tracker?: Partial<UpdateTrackerOptions>;
  log?: (line: string) => void;
}

/** Claims up to `batch` due watches (nextCheckAt passed, enabled), moving each one's nextCheckAt on by its interval. */
export async function claimDueWatches(db: Db, batch: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH due AS (
      SELECT "id" FROM "ImageWatch"
      WHERE "enabled" AND "nextCheckAt" <= now()
      ORDER BY "nextCheckAt"
      LIMIT ${batch}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE "ImageWatch" AS w
    SET "nextCheckAt" = now() + make_interval(secs => w."intervalSeconds"), "updatedAt" = now()
    FROM due WHERE w."id" = due."id"
    RETURNING w."id"`;
  return rows.map((r) => r.id);
}

export function startWatcher(services: FleetServices, o: WatcherOptions = {}): () => Promise<void> {
  const db = o.db ?? defaultDb();
  const tickMs = o.tickMs ?? 5_000;
  const batch = o.batch ?? 10;
  const trackerEveryMs = o.trackerEveryMs ?? 60_000;
  const log = o.log ?? ((line: string) => console.error(`[berth] watcher: ${line}`));
  const tracker = new UpdateTracker({ ...DEFAULT_TRACKER_OPTIONS, ...o.tracker });
  setUpdateTracker(tracker);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let lastRound = 0;

  const tick = async () => {
    try {
      const ids = await claimDueWatches(db, batch);
      for (const id of ids) {
        if (stopped) break;
        const w = await db.imageWatch.findUnique({ where: { id } });
        if (!w) continue;
        await checkWatch(db, services, w, { log }).catch((e: unknown) => log(`check of watch ${id} failed: ${e instanceof Error ? e.message : String(e)}`));
      }
      if (!stopped && Date.now() - lastRound >= trackerEveryMs) {
        lastRound = Date.now();
        await tracker.round(db, services).catch((e: unknown) => log(`update check failed: ${e instanceof Error ? e.message : String(e)}`));
      }
    } catch (e) {
      log(`tick failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = null;
        schedule();
      });
    }, tickMs);
    timer.unref?.();
  };
  schedule();

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
