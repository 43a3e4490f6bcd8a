import "server-only";
import { bumpAuthGeneration, changesAccess } from "../auth/generation";
import { storableJson, storableText, storableTextOrNull } from "../../lib/storable-text";
import type { Db } from "../db";
import { countAuditEvent } from "../metrics/registry";
import { GENESIS_HASH, hashEvent, type HashedFields } from "./canonical";
import { redactParams } from "./redact";
import type { AuditInput } from "./types";

// Distinct from Prisma's migration lock (72707369).
const AUDIT_CHAIN_LOCK = 72707370;

// Writes are serialised twice: a promise chain in this process (so concurrent
// requests don't each hold a pooled connection while they wait) and an advisory
// lock in Postgres (so several processes still build one chain).
let queue: Promise<unknown> = Promise.resolve();

function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

export interface WrittenEvent {
  id: bigint;
  hash: string;
}

/** An audit record in exactly the form it will be stored and hashed; only its place in the chain is missing. */
export type PreparedAudit = Omit<HashedFields, "id" | "createdAt" | "prevHash">;

/**
 * Encodes a record for storage: secrets redacted, sizes capped, and every
 * string (parameter keys included) made storable (server/database/storable.ts).
 * Pure and total: it never throws on what a client sent, so a record can be
 * prepared before the action it describes runs, and the hash covers exactly
 * what Postgres keeps.
 */
export function prepareAudit(input: AuditInput): PreparedAudit {
  return {
    actorType: input.actor.type,
    actorId: storableTextOrNull(input.actor.id),
    actorLabel: storableTextOrNull(input.actor.label),
    sourceIp: storableTextOrNull(input.request?.ip),
    userAgent: storableTextOrNull(input.request?.userAgent?.slice(0, 512)),
    action: storableText(input.action),
    targetType: storableTextOrNull(input.target?.type),
    targetId: storableTextOrNull(input.target?.id),
    hostId: storableTextOrNull(input.hostId),
    params: storableJson(redactParams(input.params ?? {}) ?? {}),
    outcome: input.outcome,
    errorMessage: storableTextOrNull(input.errorMessage?.slice(0, 2000)),
    requestId: storableTextOrNull(input.request?.requestId),
  };
}

/** Appends a prepared record to the chain. */
export function appendAudit(db: Db, record: PreparedAudit): Promise<WrittenEvent> {
  // Every change is audited, so this is where remembered authentications learn they may be stale.
  if (changesAccess(record.action)) bumpAuthGeneration();
  return serialised(() =>
    db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
        const last = await tx.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true, hash: true } });
        // The id is the previous one plus one, taken under the lock: a write that rolls back
        // consumes nothing (nextval would leave a gap), so verify can insist on consecutive ids.
        const id = (last?.id ?? 0n) + 1n;
        // The column's sequence is kept at the head, so anything inserting with the default can't collide.
        await tx.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('"AuditEvent"', 'id'), ${id})`);
        const fields: HashedFields = {
          ...record,
          id,
          createdAt: new Date(),
          prevHash: last?.hash ?? GENESIS_HASH,
        };
        const hash = hashEvent(fields);
        await tx.auditEvent.create({
          data: {
            ...fields,
            actorType: record.actorType as AuditInput["actor"]["type"],
            outcome: record.outcome as AuditInput["outcome"],
            params: fields.params as object,
            hash,
          },
        });
        return { id: fields.id, hash };
      },
      { maxWait: 60_000, timeout: 60_000 },
    ).then((written) => {
      countAuditEvent(record.outcome);
      return written;
    }),
  );
}

export function writeAudit(db: Db, input: AuditInput): Promise<WrittenEvent> {
  return appendAudit(db, prepareAudit(input));
}
