import "server-only";
import type { Db } from "../db";
import { db as defaultDb } from "../db";
import type { FleetServices } from "../fleet/instance";
import { startAuditVerifySchedule } from "./audit-verify";
import { AlertEvaluator, currentEvaluator, setCurrentEvaluator, type EvaluatorOptions } from "./evaluator";
import { seedDefaultRules } from "./rules";

// The alert engine's background starter (server/background.ts): seeds the
// default rules on a new install, runs the evaluator, and verifies the audit
// chain daily. Settings through the environment for tests and tuning:
// BERTH_ALERT_TICK_MS (default 5000), BERTH_ALERT_QUIET_MS (600000),
// BERTH_AUDIT_VERIFY_HOURS (24).

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

export function startAlerting(_services: FleetServices | null, o: Partial<EvaluatorOptions> & { db?: Db; verifyEveryMs?: number } = {}): () => Promise<void> {
  if (currentEvaluator()) return async () => undefined;
  const db = o.db ?? defaultDb();
  const log = o.log ?? ((l: string) => console.error(`[berth] alerts: ${l}`));
  const evaluator = new AlertEvaluator({
    db,
    tickMs: o.tickMs ?? envNumber("BERTH_ALERT_TICK_MS", 5_000, 50, 600_000),
    quietMs: o.quietMs ?? envNumber("BERTH_ALERT_QUIET_MS", 600_000, 1_000, 7 * 86_400_000),
    now: o.now,
    log,
  });
  setCurrentEvaluator(evaluator);
  evaluator.start();
  void seedDefaultRules(db)
    .then((n) => (n ? log(`seeded ${n} default alert rules`) : undefined))
    .catch((e: unknown) => log(`seeding default rules failed: ${e instanceof Error ? e.message : String(e)}`))
    .finally(() => evaluator.invalidate());
  const stopVerify = startAuditVerifySchedule({ db, everyMs: o.verifyEveryMs ?? envNumber("BERTH_AUDIT_VERIFY_HOURS", 24, 0.001, 24 * 30) * 3_600_000, log });
  return async () => {
    stopVerify();
    await evaluator.stop();
    if (currentEvaluator() === evaluator) setCurrentEvaluator(null);
  };
}
