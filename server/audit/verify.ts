import "server-only";
import type { Db } from "../db";
import { GENESIS_HASH, hashEvent } from "./canonical";
import { checkpointSignatureValid, type CheckpointEvidence } from "./checkpoint";

export interface CheckpointVerdict {
  /** ok: the chain holds the last checkpoint's event with its hash; none: no checkpoint yet. */
  status: "ok" | "none" | "truncated" | "rewritten" | "unusable";
  id?: string;
  hash?: string;
  at?: string;
  reason?: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBad?: { id: string; reason: string };
  lastHash: string;
  /** The head event's id ("0" for an empty log). */
  lastId: string;
  /** Gaps in the ids that were there before ids became consecutive (migration 2026120603000000). */
  legacyGaps: number;
  checkpoint: CheckpointVerdict;
}

const BATCH = 5000;

/**
 * Walks the whole chain in id order and names the first event that doesn't
 * fit: altered (its hash), removed or reordered (the previous hash), or
 * missing (ids must be consecutive). Then compares the end of the chain with
 * the last checkpoint, which catches events removed from the end.
 */
export async function verifyAuditChain(db: Db, options: { checkpoint?: CheckpointEvidence } = {}): Promise<VerifyResult> {
  const legacy = new Map(
    (await db.$queryRaw<{ afterId: bigint; nextId: bigint }[]>`SELECT "afterId", "nextId" FROM "AuditIdGap"`).map((g) => [BigInt(g.afterId), BigInt(g.nextId)]),
  );
  let prev = GENESIS_HASH;
  let prevId = 0n;
  let cursor: bigint | undefined;
  let checked = 0;
  let legacyGaps = 0;
  // Hashes of the events the checkpoint could name, looked up as the walk passes them.
  const wanted = options.checkpoint?.kind === "checkpoint" ? BigInt(options.checkpoint.checkpoint.id) : null;
  let wantedHash: string | null = null;
  const broken = (id: bigint, reason: string): VerifyResult => ({
    ok: false,
    checked,
    lastHash: prev,
    lastId: prevId.toString(),
    legacyGaps,
    firstBad: { id: id.toString(), reason },
    checkpoint: { status: "none" },
  });
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: cursor === undefined ? {} : { id: { gt: cursor } },
      orderBy: { id: "asc" },
      take: BATCH,
    });
    for (const row of rows) {
      if (row.prevHash !== prev) {
        return broken(row.id, "its previous-event hash does not match event before it (an event was removed or reordered)");
      }
      if (hashEvent(row) !== row.hash) {
        return broken(row.id, "its content does not match its hash (it was altered)");
      }
      if (row.id !== prevId + 1n) {
        if (legacy.get(prevId) === row.id) legacyGaps++;
        else {
          return broken(
            row.id,
            `the ids jump from ${prevId} to ${row.id}: ${row.id - prevId - 1n} event(s) are missing (removed, and the chain after them rewritten)`,
          );
        }
      }
      if (row.id === wanted) wantedHash = row.hash;
      prev = row.hash;
      prevId = row.id;
      checked++;
    }
    if (rows.length < BATCH) break;
    cursor = rows[rows.length - 1]!.id;
  }
  const result: VerifyResult = { ok: true, checked, lastHash: prev, lastId: prevId.toString(), legacyGaps, checkpoint: { status: "none" } };
  const evidence = options.checkpoint;
  if (!evidence || evidence.kind === "none") return result;
  if (evidence.kind === "unusable") {
    return { ...result, ok: false, firstBad: { id: prevId.toString(), reason: evidence.reason }, checkpoint: { status: "unusable", reason: evidence.reason } };
  }
  const cp = evidence.checkpoint;
  const seen = { id: cp.id, hash: cp.hash, at: cp.at };
  if (!checkpointSignatureValid(evidence.publicKey, cp)) {
    const reason = "the last checkpoint's signature is not valid (it was forged, damaged, or signed with another key)";
    return { ...result, ok: false, firstBad: { id: cp.id, reason }, checkpoint: { status: "unusable", ...seen, reason } };
  }
  if (BigInt(cp.id) > prevId) {
    const reason = `the log ends at event #${prevId}, but the checkpoint of ${cp.at} recorded event #${cp.id}: events were removed from the end`;
    return { ...result, ok: false, firstBad: { id: (prevId + 1n).toString(), reason }, checkpoint: { status: "truncated", ...seen, reason } };
  }
  if (wantedHash !== cp.hash) {
    const reason = `event #${cp.id} is not the one the checkpoint of ${cp.at} recorded: the chain was rewritten from there`;
    return { ...result, ok: false, firstBad: { id: cp.id, reason }, checkpoint: { status: "rewritten", ...seen, reason } };
  }
  return { ...result, checkpoint: { status: "ok", ...seen } };
}
