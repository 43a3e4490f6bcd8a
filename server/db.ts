import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client";

export type Db = InstanceType<typeof PrismaClient>;

// One Prisma client per process. The URL is read when first used, because the
// gateway's entry point may start an embedded Postgres and set DATABASE_URL
// before anything touches the database.
const globalForDb = globalThis as unknown as { berthDb?: Db };

export function createDb(connectionString: string): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10 }) });
}

export function db(): Db {
  if (!globalForDb.berthDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set: the database has not been started");
    globalForDb.berthDb = createDb(url);
  }
  return globalForDb.berthDb;
}
