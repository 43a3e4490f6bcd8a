import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./database/embedded";
import { migrate } from "./database/migrate";
import { createDb, type Db } from "./db";
import type { Env } from "./env";
import { readOrCreateKeyFile } from "./secrets/key-file";
import { seedBuiltInRoles } from "./services/roles/seed-built-in-roles";
import { ensureOwnerFromEnv, issueSetupToken, needsSetup } from "./services/setup/first-owner";

export interface Booted {
  databaseUrl: string;
  embedded: EmbeddedDatabase | null;
  db: Db;
}

/** Database up, migrated and seeded; AUTH_SECRET in place. Runs before Next loads. */
export async function bootDatabase(env: Env, dataDir: string, log: (l: string) => void): Promise<Booted> {
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir, log });
    databaseUrl = embedded.url();
    log(`embedded Postgres running on 127.0.0.1:${embedded.port} (data in ${path.join(dataDir, "postgres")})`);
  }
  process.env.DATABASE_URL = databaseUrl;
  await migrate(databaseUrl, { log });
  process.env.AUTH_SECRET ??= await readOrCreateKeyFile(path.join(dataDir, "auth-secret"));
  const db = createDb(databaseUrl);
  await seedBuiltInRoles(db);
  return { databaseUrl, embedded, db };
}

/** First run: an owner from the environment, or a one-time set-up link. */
export async function ensureFirstOwner(db: Db, env: Env, publicUrl: string, log: (l: string) => void) {
  if (!(await needsSetup(db))) return;
  if (env.BERTH_ADMIN_EMAIL && env.BERTH_ADMIN_PASSWORD) {
    const user = await ensureOwnerFromEnv(db, env.BERTH_ADMIN_EMAIL, env.BERTH_ADMIN_PASSWORD);
    if (user) log(`created the first owner ${user.email} from BERTH_ADMIN_EMAIL; sign in at ${publicUrl}/sign-in`);
    return;
  }
  const token = await issueSetupToken(db);
  if (token) {
    log("");
    log("  No owner exists yet. Open this one-time link to create the first owner:");
    log(`  ${publicUrl}/setup?token=${token}`);
    log("  (or restart with BERTH_ADMIN_EMAIL and BERTH_ADMIN_PASSWORD set)");
    log("");
  }
}
