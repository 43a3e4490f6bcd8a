import "server-only";
import type { Actor, AuditInput, RequestMeta } from "../audit/types";
import { appendAudit, prepareAudit, writeAudit } from "../audit/write";
import type { Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";

// The audit step of the pipeline (server/pipeline/README in token-pipeline.ts):
// who the records name, records that must never fail the request they
// describe (a denial, a refusal summary: a failed write is logged), and an
// action's trail (intent before it reaches a host, outcome after).

/** A record without where the request came from (the pipeline adds that). */
export type AuditEntry = Omit<AuditInput, "request">;

/** What audit records name: a token's viewer carries the token; a signed-in user is named by email. */
export function actorOf(viewer: Viewer | null): Actor {
  const carried = (viewer as { actor?: Actor } | null)?.actor;
  if (carried) return carried;
  return viewer ? { type: "user", id: viewer.user.id, label: viewer.user.email } : { type: "anonymous", id: null, label: null };
}

/** Writes one record; a failed write is logged, never thrown (the answer is already decided). */
export async function recordSafely(db: Db, meta: RequestMeta, entry: AuditEntry, log: (line: string) => void): Promise<void> {
  try {
    await writeAudit(db, { ...entry, request: meta });
  } catch (e) {
    log(`audit write failed for ${entry.action} (request ${meta.requestId}): ${e instanceof Error ? e.message : String(e)}`);
  }
}

// An error the pipeline has already put on record (a denial): the boundary
// answers it without auditing it again. A mark, not a WeakSet: the gateway's
// entry point and Next's bundle each load their own copy of this module.
const AUDITED = Symbol.for("berth.audited");

export function markAudited<E extends Error>(e: E): E {
  Object.defineProperty(e, AUDITED, { value: true });
  return e;
}

export function isAudited(e: unknown): boolean {
  return e instanceof Error && (e as unknown as Record<symbol, unknown>)[AUDITED] === true;
}

/** What a client is told when an action's intent can't be recorded (nothing was done). */
export const AUDIT_UNAVAILABLE = "The audit log can't be written right now, so nothing was done on the host. Try again later.";

export interface AuditTrailOptions {
  db: Db;
  meta: RequestMeta;
  actor: Actor;
  /** The outcome record's action; the intent is `<action>.intent`. */
  action: string;
  log: (line: string) => void;
}

/**
 * One action's records: "audit intent → act → audit outcome". The intent is
 * appended before the action first reaches a host; if it can't be written,
 * intent() throws UNAVAILABLE and the caller must not act. Records are
 * encoded by prepareAudit, which is total: whatever a client sent, the
 * record can be stored. `note` fills in what is known as the action goes.
 */
export interface AuditNote {
  target?: { type: string; id?: string | null } | null;
  hostId?: string | null;
  /** Replaces `defaultParams` in the record (redacted by the writer). */
  params?: unknown;
}

export class AuditTrail {
  readonly note: AuditNote = {};
  /** The record's params unless note.params is set (tRPC: the raw input). */
  defaultParams: unknown = null;
  private written: Promise<void> | undefined;
  /** The intent could not be written: nothing reached a host. */
  intentFailed = false;

  constructor(private readonly o: AuditTrailOptions) {}

  get action(): string {
    return this.o.action;
  }

  private prepare(action: string, outcome: AuditInput["outcome"], errorMessage: string | null) {
    return prepareAudit({
      actor: this.o.actor,
      action,
      outcome,
      target: this.note.target ?? null,
      hostId: this.note.hostId ?? null,
      params: this.note.params !== undefined ? this.note.params : this.defaultParams,
      errorMessage,
      request: this.o.meta,
    });
  }

  /** Appends `<action>.intent` once (later calls wait for the same write); throws UNAVAILABLE (an AppError) if it can't. */
  intent(): Promise<void> {
    this.written ??= appendAudit(this.o.db, this.prepare(`${this.o.action}.intent`, "success", null)).then(
      () => undefined,
      (e: unknown) => {
        this.intentFailed = true;
        this.o.log(`audit intent for ${this.o.action} (request ${this.o.meta.requestId}) could not be written: ${e instanceof Error ? e.message : String(e)}`);
        throw new AppError("UNAVAILABLE", AUDIT_UNAVAILABLE);
      },
    );
    return this.written;
  }

  /** Appends the outcome; throws if it can't be written, unless the intent already failed (nothing ran: that is logged). */
  async outcome(outcome: AuditInput["outcome"], errorMessage: string | null): Promise<void> {
    try {
      await appendAudit(this.o.db, this.prepare(this.o.action, outcome, errorMessage));
    } catch (e) {
      if (!this.intentFailed) throw e;
      this.o.log(`audit record for ${this.o.action} (request ${this.o.meta.requestId}) could not be written either: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
