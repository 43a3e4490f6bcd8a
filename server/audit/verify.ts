import type { Db } from "../db";
import { GENESIS_HASH, hashEvent } from "./canonical";

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBad?: { id: string; reason: string };
  lastHash: string;
}

const BATCH = 5000;

/** Walks the whole chain in id order and names the first event that doesn't fit. */
export async function verifyAuditChain(db: Db): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let cursor: bigint | undefined;
  let checked = 0;
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: cursor === undefined ? {} : { id: { gt: cursor } },
      orderBy: { id: "asc" },
      take: BATCH,
    });
    for (const row of rows) {
      if (row.prevHash !== prev) {
        return {
          ok: false,
          checked,
          lastHash: prev,
          firstBad: {
            id: row.id.toString(),
            reason: `its previous-event hash does not match event before it (an event was removed or reordered)`,
          },
        };
      }
      const expected = hashEvent(row);
      if (expected !== row.hash) {
        return {
          ok: false,
          checked,
          lastHash: prev,
          firstBad: { id: row.id.toString(), reason: "its content does not match its hash (it was altered)" },
        };
      }
      prev = row.hash;
      checked++;
    }
    if (rows.length < BATCH) break;
    cursor = rows[rows.length - 1]!.id;
  }
  return { ok: true, checked, lastHash: prev };
}
