import "server-only";
import { ANONYMOUS_ACTOR, type Actor, type RequestMeta } from "../audit/types";
import type { Viewer } from "../auth/access";
import { AppError, type AppErrorDetails } from "../errors";
import { Admission, type PipelineContext } from "./admission";
import { actorOf, markAudited, recordSafely } from "./audit-log";
import { RateLimiter } from "./rate-limit";

// The pipeline's first two steps for any entry point authenticated by a
// credential a client holds (an API token, a webhook's secret or its HMAC
// signature):
//
//   authenticate → limit → (Admission: authorise → audit)
//
// The entry point brings its own `authenticate` (what the credential is and
// how it is checked); everything else is shared: failed authentications
// counted per client address (audited one by one up to a burst, then
// summarised; with `blockFloods` the address is answered 429 without any
// lookup until it slows down), a rate limit per credential, and every
// refusal thrown as an AppError already audited. See token-pipeline.ts for
// the bearer-token use and server/webhooks/pipeline.ts for the webhook one.

/** What authenticate answers: the viewer and the key its rate limit is counted under, or why not. */
export type CredentialCheck<V extends Viewer> =
  | { ok: true; viewer: V; rateKey: string }
  | {
      ok: false;
      /** UNAUTHORIZED unless said otherwise (a webhook called from an address it doesn't accept: FORBIDDEN). */
      code?: "UNAUTHORIZED" | "FORBIDDEN";
      /** Whom the record names: the credential's owner when it matched one (revoked, expired), else anonymous. */
      actor: Actor | null;
      /** The audit record's message (and what summaries say). */
      reason: string;
      /** What the client is told. */
      message: string;
      /** Added to the record's params (a secret's display prefix, never the secret). */
      params?: Record<string, unknown>;
      details?: AppErrorDetails;
    };

export interface CredentialWording {
  tooManyRequests(retryAfterSeconds: number): string;
  /** The audit record's message for `refused` refusals of a credential's requests (`message`: what the client was told last). */
  rateLimitAudit(refused: number, message: string): string;
  /** With blockFloods: an address answered 429 after too many failed authentications. */
  tooManyFailures(retryAfterSeconds: number): string;
}

export interface CredentialPipelineOptions<C, V extends Viewer> extends PipelineContext {
  /** Requests per credential. */
  rate: { perSecond: number; burst: number };
  /** Failed authentications per client address, audited one by one up to the burst, then summarised once a second. */
  authFailureRate: { perSecond: number; burst: number };
  /** Past authFailureRate, answer the address 429 without looking anything up until it slows down. */
  blockFloods: boolean;
  wording: CredentialWording;
  authenticate(credential: C, meta: RequestMeta): Promise<CredentialCheck<V>>;
}

export interface CredentialRequest<C> {
  credential: C;
  meta: RequestMeta;
  /** The audit action of a refused authentication. */
  authAction: string;
  /** The audit action of a request refused by the rate limit. */
  rateAction: string;
  /** What every refusal's record holds (method, path). */
  params: Record<string, unknown>;
}

export interface CredentialPipeline<C, V extends Viewer> {
  /** Authenticate → limit; throws an audited AppError when the request may not go on. */
  admit(request: CredentialRequest<C>): Promise<Admission<V>>;
  /** Records refusals still only counted (tests, shutdown). */
  flushPending(): void;
}

/** A refusal not recorded at once, kept to be summarised when the client stops. */
interface PendingNote {
  meta: RequestMeta;
  actor: Actor;
  action: string;
  params: Record<string, unknown>;
  summary: (refused: number) => string;
}

const MAX_BLOCKED_ADDRESSES = 10_000;

export function createCredentialPipeline<C, V extends Viewer>(o: CredentialPipelineOptions<C, V>): CredentialPipeline<C, V> {
  const { wording } = o;
  const summarise = (_key: string, report: { refused: number }, note: unknown) => {
    const n = note as PendingNote | undefined;
    if (!n) return;
    void recordSafely(o.db(), n.meta, { actor: n.actor, action: n.action, outcome: "denied", params: { ...n.params, refused: report.refused }, errorMessage: n.summary(report.refused) }, o.log);
  };
  const credentials = new RateLimiter({ ...o.rate, onPendingReport: summarise });
  const failures = new RateLimiter({ ...o.authFailureRate, onPendingReport: summarise });
  /** Addresses over the failure rate (blockFloods), until when. */
  const blocked = new Map<string, number>();

  function block(key: string, retryAfterSeconds: number): void {
    if (blocked.size >= MAX_BLOCKED_ADDRESSES) {
      const now = Date.now();
      for (const [k, until] of blocked) if (until <= now) blocked.delete(k);
      for (const k of blocked.keys()) {
        if (blocked.size < MAX_BLOCKED_ADDRESSES) break;
        blocked.delete(k);
      }
    }
    blocked.set(key, Date.now() + retryAfterSeconds * 1000);
  }

  async function admit(r: CredentialRequest<C>): Promise<Admission<V>> {
    const { meta, params } = r;
    const ipKey = `ip:${meta.ip ?? "unknown"}`;
    const record = (actor: Actor, action: string, extra: Record<string, unknown>, errorMessage: string) =>
      recordSafely(o.db(), meta, { actor, action, outcome: "denied", params: { ...params, ...extra }, errorMessage }, o.log);

    // An address that keeps failing to authenticate is answered 429 before anything is looked up.
    let charged = false;
    const until = blocked.get(ipKey);
    if (until !== undefined) {
      if (Date.now() < until) {
        let message = "";
        const note: PendingNote = { meta, actor: ANONYMOUS_ACTOR, action: r.authAction, params, summary: (n) => `${message} (${n} attempts from this address summarised)` };
        const decision = failures.take(ipKey, note);
        if (!decision.ok) {
          message = wording.tooManyFailures(decision.retryAfterSeconds);
          blocked.set(ipKey, Date.now() + decision.retryAfterSeconds * 1000);
          if (decision.report) await record(ANONYMOUS_ACTOR, r.authAction, { refused: decision.report.refused }, note.summary(decision.report.refused));
          throw markAudited(new AppError("TOO_MANY_REQUESTS", message, { details: { retryAfterSeconds: decision.retryAfterSeconds } }));
        }
        // Let through: this attempt is already paid for.
        charged = true;
      }
      blocked.delete(ipKey);
    }

    // 1. Authenticate: the credential, before anything else is looked up.
    const auth = await o.authenticate(r.credential, meta);
    if (!auth.ok) {
      const actor = auth.actor ?? ANONYMOUS_ACTOR;
      const failure = auth.params ?? {};
      const summary = (n: number) => `${auth.reason} (${n} failed attempts from this address summarised)`;
      const decision = charged ? ({ ok: true } as const) : failures.take(ipKey, { meta, actor, action: r.authAction, params: { ...params, ...failure }, summary } satisfies PendingNote);
      if (!decision.ok && o.blockFloods) block(ipKey, decision.retryAfterSeconds);
      if (decision.ok) await record(actor, r.authAction, failure, auth.reason);
      else if (decision.report) await record(actor, r.authAction, { ...failure, refused: decision.report.refused }, summary(decision.report.refused));
      throw markAudited(new AppError(auth.code ?? "UNAUTHORIZED", auth.message, { details: auth.details }));
    }
    const viewer = auth.viewer;
    const actor = actorOf(viewer);

    // 2. Limit: how often, per credential.
    let message = "";
    const rateNote: PendingNote = { meta, actor, action: r.rateAction, params, summary: (n) => wording.rateLimitAudit(n, message) };
    const rate = credentials.take(auth.rateKey, rateNote);
    if (!rate.ok) {
      message = wording.tooManyRequests(rate.retryAfterSeconds);
      if (rate.report) await record(actor, r.rateAction, { refused: rate.report.refused }, wording.rateLimitAudit(rate.report.refused, message));
      throw markAudited(new AppError("TOO_MANY_REQUESTS", message, { details: { retryAfterSeconds: rate.retryAfterSeconds } }));
    }
    return new Admission(viewer, meta, o);
  }

  return {
    admit,
    flushPending() {
      credentials.flushPending();
      failures.flushPending();
    },
  };
}
