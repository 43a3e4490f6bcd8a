import "server-only";
import { loadCheckpointEvidence } from "../../audit/checkpoint";
import { verifyAuditChain } from "../../audit/verify";
import type { Db } from "../../db";
import { dataDir, env } from "../../env";

/** Checks the whole chain, and its head against the last signed checkpoint in the data directory. */
export async function verifyAuditLog(o: { db: Db }) {
  const e = env();
  return verifyAuditChain(o.db, { checkpoint: await loadCheckpointEvidence(dataDir(e), e.BERTH_AUDIT_CHECKPOINT_KEY) });
}
