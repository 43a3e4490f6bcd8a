import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { storableWriteArgs } from "./database/storable-writes";
import { PrismaClient } from "./generated/prisma/client";

export type Db = InstanceType<typeof PrismaClient>;

// One Prisma client per process. The URL is read when first used, because the
// gateway's entry point may start an embedded Postgres and set DATABASE_URL
// before anything touches the database.
const globalForDb = globalThis as unknown as { berthDb?: Db };

export function createDb(connectionString: string): Db {
  const client = new PrismaClient({
    adapter: new PrismaPg({
      connectionString,
      max: 10,
      // After the database restarts, a connection to the old server is closed rather than kept: the pool drops
      // one the server ended (pg reports it), idle ones are retired after 30 s, and keepalive finds a silent peer.
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    }),
  });
  // Writes to JSON columns are made storable in one place (server/database/storable-writes.ts).
  // A query extension changes no types, so the client keeps its own.
  return client.$extends({
    query: {
      $allModels: {
        $allOperations({ model, operation, args, query }) {
          return query(storableWriteArgs(model, operation, args) as typeof args);
        },
      },
    },
  }) as unknown as Db;
}

export function db(): Db {
  if (!globalForDb.berthDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set: the database has not been started");
    globalForDb.berthDb = createDb(url);
  }
  return globalForDb.berthDb;
}
