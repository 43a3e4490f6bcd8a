import "server-only";
import type { Db } from "../db";
import { Prisma } from "../generated/prisma/client";
import { minuteOf, pruneCutoff } from "./sample-math";

// StatSample rows: written minute-aligned (an upsert on host + container +
// minute, so a second sample in the same minute, or a second gateway sampling
// the same host, replaces the row rather than adding one) and pruned after
// 24 hours in bounded batches.

export interface SampleRow {
  hostId: string;
  /** "" for the host's own row. */
  containerId: string;
  containerName: string;
  at: Date;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
}

/** Rows per INSERT statement. */
const WRITE_CHUNK = 500;

const big = (n: number) => BigInt(Math.max(0, Math.round(Number.isFinite(n) ? n : 0)));

export async function writeSamples(db: Db, rows: readonly SampleRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
    const values = rows.slice(i, i + WRITE_CHUNK).map(
      (r) =>
        Prisma.sql`(${r.hostId}, ${r.containerId}, ${r.containerName.slice(0, 256)}, ${minuteOf(r.at)}, ${Number.isFinite(r.cpuPercent) ? r.cpuPercent : 0}, ${big(r.memoryBytes)}, ${
          r.memoryLimitBytes === null ? null : big(r.memoryLimitBytes)
        }, ${big(r.netRxBytes)}, ${big(r.netTxBytes)}, ${big(r.blockReadBytes)}, ${big(r.blockWriteBytes)})`,
    );
    await db.$executeRaw`
      INSERT INTO "StatSample" ("hostId", "containerId", "containerName", "at", "cpuPercent", "memoryBytes", "memoryLimitBytes", "netRxBytes", "netTxBytes", "blockReadBytes", "blockWriteBytes")
      VALUES ${Prisma.join(values)}
      ON CONFLICT ("hostId", "containerId", "at") DO UPDATE SET
        "containerName" = EXCLUDED."containerName", "cpuPercent" = EXCLUDED."cpuPercent", "memoryBytes" = EXCLUDED."memoryBytes",
        "memoryLimitBytes" = EXCLUDED."memoryLimitBytes", "netRxBytes" = EXCLUDED."netRxBytes", "netTxBytes" = EXCLUDED."netTxBytes",
        "blockReadBytes" = EXCLUDED."blockReadBytes", "blockWriteBytes" = EXCLUDED."blockWriteBytes"`;
  }
}

export const PRUNE_BATCH = 5_000;
export const PRUNE_MAX_BATCHES = 20;

type PruneDb = Pick<Db, "$executeRaw">;

/**
 * Deletes rows older than the retention, oldest first, `batch` rows per
 * statement and at most `maxBatches` statements per call (the rest go on the
 * next pass). Returns how many rows went.
 */
export async function pruneSamples(db: PruneDb, now: Date, o: { batch?: number; maxBatches?: number; hours?: number } = {}): Promise<number> {
  const batch = o.batch ?? PRUNE_BATCH;
  const maxBatches = o.maxBatches ?? PRUNE_MAX_BATCHES;
  const cutoff = pruneCutoff(now, o.hours);
  let removed = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await db.$executeRaw`
      DELETE FROM "StatSample" WHERE "id" IN (SELECT "id" FROM "StatSample" WHERE "at" < ${cutoff} ORDER BY "at" LIMIT ${batch})`;
    removed += n;
    if (n < batch) break;
  }
  return removed;
}
