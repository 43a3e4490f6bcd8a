import "server-only";
import type { Actor, AuditOutcome, RequestMeta } from "../audit/types";
import type { HostRef, Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError, type AppErrorCode, type AppErrorDetails } from "../errors";
import type { Permission } from "../../lib/permissions";
import { actorOf, type AuditEntry, AuditTrail, markAudited, recordSafely } from "./audit-log";
import { missingPermissions } from "./authorise";

// A request the pipeline has let in: who (a token's viewer, a session's, or
// nobody yet), from where, and the steps that follow authentication with
// that identity: authorise (permission + host scope), deny-and-audit, and an
// action's audit trail. Token entry points get one from TokenPipeline.admit;
// session-cookie ones (the exec terminal, the console's export) from
// admitSession.

export interface PipelineContext {
  db: () => Db;
  /** The gateway's log (a failed audit write, a hidden error). */
  log: (line: string) => void;
}

export interface Denial {
  action: string;
  params?: Record<string, unknown>;
  hostId?: string | null;
  target?: { type: string; id?: string | null } | null;
  /** "denied" unless the request was refused as malformed ("error"). */
  outcome?: AuditOutcome;
  /** The record's message when it should differ from the client's. */
  errorMessage?: string;
  details?: AppErrorDetails;
}

export class Admission<V extends Viewer | null = Viewer> {
  readonly actor: Actor;

  constructor(
    readonly viewer: V,
    readonly meta: RequestMeta,
    private readonly context: PipelineContext,
  ) {
    this.actor = actorOf(viewer);
  }

  get db(): Db {
    return this.context.db();
  }

  /** Writes one record as this caller (or `actor`); a failed write is logged. */
  record(entry: Omit<AuditEntry, "actor"> & { actor?: Actor }): Promise<void> {
    return recordSafely(this.db, this.meta, { ...entry, actor: entry.actor ?? this.actor }, this.context.log);
  }

  /**
   * Audits a refusal and returns the error to throw (marked as audited, so the
   * boundary doesn't record it again). An entry point with statuses of its own
   * (a webhook's 415 and 422) may use codes beyond AppErrorCode and map them itself.
   */
  async deny<C extends string = AppErrorCode>(code: C, message: string, d: Denial): Promise<AppError<C>> {
    await this.record({
      action: d.action,
      outcome: d.outcome ?? "denied",
      params: d.params ?? {},
      errorMessage: d.errorMessage ?? message,
      hostId: d.hostId ?? null,
      target: d.target ?? null,
    });
    return markAudited(new AppError<C>(code, message, { details: d.details }));
  }

  /**
   * The authorise step: every permission in `permissions`, on the host when
   * one is given (null: no such host, which fails). Throws FORBIDDEN, audited
   * with `denial`, worded by `message`.
   */
  async authorise(o: { permissions: readonly Permission[]; host?: HostRef | null; message: (missing: Permission[]) => string; denial: Denial }): Promise<void> {
    if (this.viewer === null) throw await this.deny("UNAUTHORIZED", "Sign in first.", o.denial);
    const missing = missingPermissions(this.viewer, o.permissions, o.host);
    if (missing.length) throw await this.deny("FORBIDDEN", o.message(missing), o.denial);
  }

  /** The audit trail of one action done for this caller (intent before it reaches a host, outcome after). */
  trail(action: string): AuditTrail {
    return new AuditTrail({ db: this.db, meta: this.meta, actor: this.actor, action, log: this.context.log });
  }
}

/** A request authenticated by the session cookie (or not at all: viewer null): the steps after authentication are the same. */
export function admitSession(viewer: Viewer | null, meta: RequestMeta, context: PipelineContext): Admission<Viewer | null> {
  return new Admission(viewer, meta, context);
}
