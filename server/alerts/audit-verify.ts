import "server-only";
import type { Db } from "../db";
import { verifyAuditLog } from "../services/audit/verify-audit-log";
import { emitSignal } from "./signals";

// The audit chain, verified on a schedule (daily by default) and on demand
// (alerts.verifyAudit): the verdict goes on the signal bus as audit.verified,
// where the auditChainBroken rule hears it (a broken chain fires; the next
// good verify resolves it). Only one gateway verifies at a time (an advisory
// lock); the others skip that round.

const VERIFY_LOCK = 72707392;

export interface VerifyOutcome {
  ok: boolean;
  message: string;
  checked: number;
}

export function describeVerify(r: Awaited<ReturnType<typeof verifyAuditLog>>): string {
  if (!r.ok) return `event ${r.firstBad?.id ?? "?"}: ${r.firstBad?.reason ?? "does not fit the chain"}`;
  const cp = r.checkpoint;
  if (cp.status === "truncated" || cp.status === "rewritten" || cp.status === "unusable") return `the chain ends before its last checkpoint (${cp.status}${cp.reason ? `: ${cp.reason}` : ""})`;
  return `${r.checked} events verified${cp.status === "ok" ? " up to the last signed checkpoint" : ""}`;
}

/** Verifies now and emits the verdict; a bad checkpoint counts as broken. */
export async function verifyAuditNow(db: Db): Promise<VerifyOutcome> {
  const r = await verifyAuditLog({ db });
  const ok = r.ok && !["truncated", "rewritten", "unusable"].includes(r.checkpoint.status);
  const outcome = { ok, message: describeVerify(r), checked: r.checked };
  emitSignal({ type: "audit.verified", ok, message: outcome.message, at: new Date() });
  return outcome;
}

/** Runs verifyAuditNow every `everyMs` (first after `firstAfterMs`), one gateway at a time. */
export function startAuditVerifySchedule(o: { db: Db; everyMs?: number; firstAfterMs?: number; log?: (line: string) => void }): () => void {
  const log = o.log ?? ((l: string) => console.error(`[berth] alerts: ${l}`));
  const run = async () => {
    try {
      const verdict = await o.db.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<{ got: boolean }[]>`SELECT pg_try_advisory_xact_lock(${VERIFY_LOCK}::int4) AS got`;
          if (!lock?.got) return null;
          return verifyAuditNow(o.db);
        },
        { timeout: 30 * 60_000, maxWait: 10_000 },
      );
      if (verdict && !verdict.ok) log(`audit chain verification failed: ${verdict.message}`);
    } catch (e) {
      log(`scheduled audit verify failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const first = setTimeout(() => void run(), o.firstAfterMs ?? 60_000);
  const every = setInterval(() => void run(), o.everyMs ?? 24 * 3_600_000);
  first.unref?.();
  every.unref?.();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
