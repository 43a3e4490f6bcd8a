import "server-only";
import { db as defaultDb, type Db } from "../db";
import type { FleetServices } from "../fleet/instance";
import { kickRollouts } from "../rollouts/engine";
import { expireApprovals } from "./expire-approvals";

// The approvals' background work (started from server/background.ts): every
// interval, expire overdue requests (a bounded batch per pass, the rest next
// pass) and wake the rollout worker when an approved rollout's chosen time
// has come. Safe on several gateways at once: each expiry is a conditional
// update, and a kick only makes a worker look at the queue.

export const SWEEP_INTERVAL_MS = 30_000;
const BATCH = 200;

export interface SweepOptions {
  db?: Db;
  intervalMs?: number;
  log?: (line: string) => void;
}

/** One pass; returns how many requests it expired and whether a scheduled rollout came due. */
export async function sweepApprovals(db: Db, now = new Date()): Promise<{ expired: number; due: boolean }> {
  const expired = await expireApprovals(db, { now, limit: BATCH });
  const due = (await db.rollout.count({ where: { status: "queued", notBefore: { not: null, lte: now } } })) > 0;
  if (due) kickRollouts();
  return { expired, due };
}

export function startApprovalSweep(_services: FleetServices | null, o: SweepOptions = {}): () => void {
  const log = o.log ?? ((line: string) => console.error(`[berth] approvals: ${line}`));
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await sweepApprovals(o.db ?? defaultDb());
    } catch (e) {
      log(`sweep failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}
