import "server-only";
import { z } from "zod";
import type { Db } from "../db";
import { Prisma } from "../generated/prisma/client";
import type { HashedFields } from "./canonical";

export const auditFilterSchema = z.object({
  actorId: z.string().max(64).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(200).optional(),
  outcome: z.enum(["success", "denied", "error"]).optional(),
  hostId: z.string().max(64).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  q: z.string().max(200).optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const auditPageSchema = auditFilterSchema.extend({
  /** Events older than this id (keyset pagination: fast at any depth). */
  before: z.string().regex(/^\d+$/).optional(),
  /** Events newer than this id (paging back towards the newest). */
  after: z.string().regex(/^\d+$/).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type AuditPageInput = z.input<typeof auditPageSchema>;

// Must match the expression of the trigram index in the init migration.
const SEARCH_EXPR = Prisma.raw(`("action" || ' ' || coalesce("actorLabel", '') || ' ' || coalesce("targetType", '') || ' ' ||
    coalesce("targetId", '') || ' ' || coalesce("errorMessage", '') || ' ' || coalesce("sourceIp", '') || ' ' ||
    "params"::text)`);

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function auditWhere(f: AuditFilter): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (f.actorId) parts.push(Prisma.sql`"actorId" = ${f.actorId}`);
  if (f.actor) parts.push(Prisma.sql`"actorLabel" ILIKE ${`%${escapeLike(f.actor)}%`}`);
  if (f.action) parts.push(Prisma.sql`"action" LIKE ${`${escapeLike(f.action)}%`}`);
  if (f.outcome) parts.push(Prisma.sql`"outcome" = ${f.outcome}::"AuditOutcome"`);
  if (f.hostId) parts.push(Prisma.sql`"hostId" = ${f.hostId}`);
  if (f.from) parts.push(Prisma.sql`"createdAt" >= ${f.from}`);
  if (f.to) parts.push(Prisma.sql`"createdAt" <= ${f.to}`);
  if (f.q && f.q.trim()) parts.push(Prisma.sql`${SEARCH_EXPR} ILIKE ${`%${escapeLike(f.q.trim())}%`}`);
  return parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}` : Prisma.empty;
}

/** A stored event: the hashed fields plus the hash itself. */
export interface AuditRow extends HashedFields {
  hash: string;
}

function andWhere(where: Prisma.Sql, extra: Prisma.Sql): Prisma.Sql {
  return where === Prisma.empty ? Prisma.sql`WHERE ${extra}` : Prisma.sql`${where} AND ${extra}`;
}

export interface AuditPage {
  events: AuditRow[];
  /** Pass as `before` for the next (older) page. */
  olderCursor: string | null;
  /** Pass as `after` for the previous (newer) page. */
  newerCursor: string | null;
}

export async function queryAuditPage(db: Db, input: AuditPageInput): Promise<AuditPage> {
  const p = auditPageSchema.parse(input);
  let where = auditWhere(p);
  const take = p.limit + 1;
  let rows: AuditRow[];
  if (p.after) {
    where = andWhere(where, Prisma.sql`"id" > ${BigInt(p.after)}`);
    rows = await db.$queryRaw<AuditRow[]>`SELECT * FROM "AuditEvent" ${where} ORDER BY "id" ASC LIMIT ${take}`;
    const hasNewer = rows.length > p.limit;
    rows = rows.slice(0, p.limit).reverse();
    return {
      events: rows,
      newerCursor: hasNewer && rows.length ? rows[0]!.id.toString() : null,
      olderCursor: rows.length ? rows[rows.length - 1]!.id.toString() : null,
    };
  }
  if (p.before) where = andWhere(where, Prisma.sql`"id" < ${BigInt(p.before)}`);
  rows = await db.$queryRaw<AuditRow[]>`SELECT * FROM "AuditEvent" ${where} ORDER BY "id" DESC LIMIT ${take}`;
  const hasOlder = rows.length > p.limit;
  rows = rows.slice(0, p.limit);
  return {
    events: rows,
    olderCursor: hasOlder && rows.length ? rows[rows.length - 1]!.id.toString() : null,
    newerCursor: p.before && rows.length ? rows[0]!.id.toString() : null,
  };
}

/** Every matching event, oldest first, in batches (for export). */
export async function* iterateAudit(db: Db, filter: AuditFilter, batch = 2000): AsyncGenerator<AuditRow> {
  const base = auditWhere(filter);
  let cursor: bigint | null = null;
  for (;;) {
    const where: Prisma.Sql = cursor === null ? base : andWhere(base, Prisma.sql`"id" > ${cursor}`);
    const rows: AuditRow[] = await db.$queryRaw<AuditRow[]>`SELECT * FROM "AuditEvent" ${where} ORDER BY "id" ASC LIMIT ${batch}`;
    for (const row of rows) yield row;
    if (rows.length < batch) return;
    cursor = rows[rows.length - 1]!.id;
  }
}
