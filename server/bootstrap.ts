import "server-only";
import path from "node:path";
import { loadCheckpointKey } from "./audit/checkpoint";
import { startCheckpointSchedule, type CheckpointSchedule } from "./audit/checkpoint-schedule";
import { auditTamperRights, ensureAppRole, grantAppRights, roleOfUrl } from "./database/app-role";
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
  /** Signed checkpoints of the audit chain's head (server/audit/checkpoint-schedule.ts). */
  checkpoints: CheckpointSchedule;
}

/**
 * Migrations as the owner role, then the application role's rights. The
 * embedded database sets both roles up itself; with DATABASE_URL, the owner
 * is DATABASE_MIGRATION_URL's role when given, else DATABASE_URL's own.
 * Returns the URL the gateway runs as.
 */
async function migrateAndGrant(env: Env, embedded: EmbeddedDatabase | null, log: (l: string) => void): Promise<string> {
  if (embedded) {
    await ensureAppRole(embedded.url(), embedded.appRole, embedded.appPassword);
    await migrate(embedded.url(), { log });
    await grantAppRights(embedded.url(), embedded.appRole);
    return embedded.appUrl();
  }
  const appUrl = env.DATABASE_URL!;
  const ownerUrl = env.DATABASE_MIGRATION_URL ?? appUrl;
  await migrate(ownerUrl, { log });
  if (env.DATABASE_MIGRATION_URL && roleOfUrl(ownerUrl) !== roleOfUrl(appUrl)) await grantAppRights(ownerUrl, roleOfUrl(appUrl));
  return appUrl;
}

/** Database up, migrated and seeded; AUTH_SECRET in place; audit checkpoints running. Runs before Next loads. */
export async function bootDatabase(env: Env, dataDir: string, log: (l: string) => void): Promise<Booted> {
  let embedded: EmbeddedDatabase | null = null;
  if (!env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir, log });
    log(`embedded Postgres running on 127.0.0.1:${embedded.port} (data in ${path.join(dataDir, "postgres")})`);
  }
  const databaseUrl = await migrateAndGrant(env, embedded, log);
  process.env.DATABASE_URL = databaseUrl;
  const tamper = await auditTamperRights(databaseUrl);
  if (tamper.length) {
    log(
      `WARNING: the database role "${roleOfUrl(databaseUrl)}" can ${tamper.join("; ")}, so the audit log's append-only ` +
        `trigger doesn't bind it. Give DATABASE_URL a role with data rights only and set DATABASE_MIGRATION_URL to the ` +
        `role that owns the tables (README, Configuration).`,
    );
  }
  process.env.AUTH_SECRET ??= await readOrCreateKeyFile(path.join(dataDir, "auth-secret"));
  const db = createDb(databaseUrl);
  await seedBuiltInRoles(db);
  const key = (await loadCheckpointKey(dataDir, env.BERTH_AUDIT_CHECKPOINT_KEY, { create: true }))!;
  const checkpoints = startCheckpointSchedule({
    db,
    dataDir,
    key,
    intervalMs: env.BERTH_AUDIT_CHECKPOINT_SECONDS * 1000,
    webhookUrl: env.BERTH_AUDIT_CHECKPOINT_WEBHOOK,
    log,
  });
  return { databaseUrl, embedded, db, checkpoints };
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
