// npm run db:migrate — applies pending migrations (the gateway also does this at start-up).
import { migrate } from "../../server/database/migrate";
import { withDatabase } from "./with-database";

const result = await withDatabase((url) => migrate(url, { log: (l) => console.log(`[berth] ${l}`) })).catch((e: unknown) => {
  console.error(`[berth] migration failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
console.log(
  result.applied.length
    ? `[berth] applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} were already applied`
    : `[berth] database is up to date (${result.alreadyApplied.length} migration(s) applied earlier)`,
);
process.exit(0);
