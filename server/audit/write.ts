import { bumpAuthGeneration, changesAccess } from "../auth/generation";
import type { Db } from "../db";
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

export function writeAudit(db: Db, input: AuditInput): Promise<WrittenEvent> {
  // Every change is audited, so this is where remembered authentications learn they may be stale.
  if (changesAccess(input.action)) bumpAuthGeneration();
  const params = redactParams(input.params ?? {}) ?? {};
  return serialised(() =>
    db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
        const last = await tx.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { hash: true } });
        const [{ id }] = await tx.$queryRawUnsafe<{ id: bigint }[]>(
          `SELECT nextval(pg_get_serial_sequence('"AuditEvent"', 'id')) AS id`,
        );
        const fields: HashedFields = {
          id: BigInt(id),
          createdAt: new Date(),
          actorType: input.actor.type,
          actorId: input.actor.id ?? null,
          actorLabel: input.actor.label ?? null,
          sourceIp: input.request?.ip ?? null,
          userAgent: input.request?.userAgent?.slice(0, 512) ?? null,
          action: input.action,
          targetType: input.target?.type ?? null,
          targetId: input.target?.id ?? null,
          hostId: input.hostId ?? null,
          params,
          outcome: input.outcome,
          errorMessage: input.errorMessage?.slice(0, 2000) ?? null,
          requestId: input.request?.requestId ?? null,
          prevHash: last?.hash ?? GENESIS_HASH,
        };
        const hash = hashEvent(fields);
        await tx.auditEvent.create({
          data: {
            ...fields,
            actorType: input.actor.type,
            outcome: input.outcome,
            params: params as object,
            hash,
          },
        });
        return { id: fields.id, hash };
      },
      { maxWait: 60_000, timeout: 60_000 },
    ),
  );
}
