import { runningEmbeddedUrl, startEmbeddedPostgres } from "../../server/database/embedded";
import { dataDir, env } from "../../server/env";

/**
 * The database for a command-line task: DATABASE_URL if set, else the embedded
 * Postgres of BERTH_DATA_DIR (the running gateway's, or one started for the task).
 */
export async function withDatabase<T>(task: (url: string) => Promise<T>): Promise<T> {
  const e = env();
  if (e.DATABASE_URL) return task(e.DATABASE_URL);
  const running = await runningEmbeddedUrl(dataDir(e));
  if (running) return task(running);
  const pg = await startEmbeddedPostgres({ dataDir: dataDir(e), log: (l) => console.error(`[berth] ${l}`) });
  try {
    return await task(pg.url());
  } finally {
    await pg.stop();
  }
}
