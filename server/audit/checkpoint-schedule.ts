import "server-only";
import type { Db } from "../db";
import { readCheckpointFile, signCheckpoint, writeCheckpointFile, type Checkpoint, type CheckpointKey } from "./checkpoint";
import { writeAudit } from "./write";

// Takes a checkpoint of the audit chain's head every interval (when the head
// moved), writes it to the data directory and POSTs it to the webhook if one
// is configured. Before it replaces a checkpoint it checks that the chain
// still holds the previous one: otherwise a cut-off chain would simply be
// re-anchored, hiding the cut. It then keeps the old checkpoint (so verify
// keeps reporting), logs, and records one audit event.

export interface CheckpointSchedule {
  /** Takes a checkpoint now (if the head moved) and delivers any pending one; resolves when done. */
  tick: () => Promise<void>;
  /** Stops the timer after a last tick. */
  stop: () => Promise<void>;
}

export interface CheckpointScheduleOptions {
  db: Db;
  dataDir: string;
  key: CheckpointKey;
  intervalMs: number;
  webhookUrl?: string;
  log: (line: string) => void;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

async function deliver(url: string, key: CheckpointKey, checkpoint: Checkpoint): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "berth-audit-checkpoint" },
    body: JSON.stringify({ type: "berth.audit.checkpoint", checkpoint, publicKey: key.publicKeyBase64 }),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    redirect: "error",
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
}

export function startCheckpointSchedule(o: CheckpointScheduleOptions): CheckpointSchedule {
  let last: Checkpoint | null = null;
  let undelivered: Checkpoint | null = null;
  let mismatchReported = false;
  let running: Promise<void> | null = null;

  const takeOne = async () => {
    last ??= await readCheckpointFile(o.dataDir).catch(() => null);
    const head = await o.db.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true, hash: true } });
    if (!head || (last && last.id === head.id.toString() && last.hash === head.hash)) return;
    if (last) {
      const anchored = await o.db.auditEvent.findUnique({ where: { id: BigInt(last.id) }, select: { hash: true } });
      if (anchored?.hash !== last.hash) {
        if (!mismatchReported) {
          mismatchReported = true;
          const message = `the audit chain no longer holds event #${last.id} as checkpointed at ${last.at}: events were removed or rewritten. The checkpoint is kept; run npm run audit:verify.`;
          o.log(`ERROR: ${message}`);
          await writeAudit(o.db, { actor: { type: "system", label: "system" }, action: "audit.checkpoint", outcome: "error", params: { checkpoint: last }, errorMessage: message }).catch(() => undefined);
        }
        return;
      }
    }
    const checkpoint = signCheckpoint(o.key, head);
    await writeCheckpointFile(o.dataDir, checkpoint);
    last = checkpoint;
    undelivered = o.webhookUrl ? checkpoint : null;
  };

  const tick = () =>
    (running ??= (async () => {
      try {
        await takeOne();
      } catch (e) {
        o.log(`audit checkpoint failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (undelivered && o.webhookUrl) {
        try {
          await deliver(o.webhookUrl, o.key, undelivered);
          undelivered = null;
        } catch (e) {
          // Kept and sent again at the next tick.
          o.log(`audit checkpoint not delivered to the webhook: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    })().finally(() => {
      running = null;
    }));

  const timer = setInterval(() => void tick(), o.intervalMs);
  timer.unref();
  void tick();
  return {
    tick,
    stop: async () => {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
