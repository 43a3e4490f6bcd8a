import "server-only";
import { ANONYMOUS_ACTOR, type Actor, type RequestMeta } from "../audit/types";
import { syncAccessGeneration } from "../auth/generation";
import { AppError } from "../errors";
import { bearerToken, displayPrefix, hashTokenSecret } from "../tokens/format";
import { authenticateToken, type TokenAuthentication, type TokenRefusal, type TokenViewer } from "../tokens/viewer-for-token";
import { Admission, type PipelineContext } from "./admission";
import { markAudited, recordSafely } from "./audit-log";
import { RateLimiter } from "./rate-limit";
import { ShortCache } from "./short-cache";

// The one pipeline for token-authenticated entry points (the REST API, the
// Docker-API proxy, and whatever comes next: webhooks, /metrics):
//
//   authenticate → limit → authorise (permission + host scope) → audit
//
// admit() does the first two and hands back an Admission, whose authorise(),
// deny() and trail() are the rest (server/pipeline/admission.ts); the
// session-cookie entry points get the same Admission from admitSession. A new
// entry point is a few lines:
//
//   const pipeline = createTokenPipeline({ db, log, rate, authFailureRate, blockFloods: false, wording });
//   const caller = await pipeline.admit({ authorization, meta, authAction: "webhooks.auth", rateAction: "webhooks.deliver", params });
//   await caller.authorise({ permissions: ["containers.deploy"], host, message, denial });
//   const trail = caller.trail("webhooks.deliver"); await trail.intent(); …act…; await trail.outcome("success", null);
//
// Every refusal is thrown as an AppError (UNAUTHORIZED, TOO_MANY_REQUESTS,
// FORBIDDEN) already audited, which the entry point answers through its own
// one mapping of codes (REST JSON, Docker's {"message"}, …).
//
// Authentication: the bearer token, checked against the database, remembered
// for at most 1 s and dropped at once on any access change (ShortCache with
// the AccessGeneration row: a token revoked, expired, or its owner disabled
// is refused on the very next request). Failed authentications are counted
// per client address: past the rate, their audit records are summarised, and
// with `blockFloods` the address is answered 429 without any lookup until it
// slows down (the Docker-API proxy, which a scripted client hammers).
// Limit: per token. Refusals that aren't recorded at once (a client kept
// hammering) are summarised later, so none go unaudited.

/** What each refusal says to the client; entry points word them for their clients (a person with curl, the docker CLI). */
export interface TokenWording {
  /** No Authorization header. */
  missing: string;
  /** An Authorization header that isn't `Bearer berth_…`. */
  malformed: string;
  refusals: Record<TokenRefusal, string>;
  tooManyRequests(retryAfterSeconds: number): string;
  /** The audit record's message for `refused` refusals of a token's requests (`message`: what the client was told last). */
  rateLimitAudit(refused: number, message: string): string;
  /** With blockFloods: an address answered 429 after too many failed authentications. */
  tooManyFailures(retryAfterSeconds: number): string;
}

export interface TokenPipelineOptions extends PipelineContext {
  /** Requests per token. */
  rate: { perSecond: number; burst: number };
  /** Failed authentications per client address, audited one by one up to the burst, then summarised once a second. */
  authFailureRate: { perSecond: number; burst: number };
  /** Past authFailureRate, answer the address 429 without looking anything up until it slows down. */
  blockFloods: boolean;
  wording: TokenWording;
}

export interface TokenRequest {
  /** The Authorization header as sent. */
  authorization: string | null | undefined;
  meta: RequestMeta;
  /** The audit action of a refused authentication ("docker.auth", or the route's own). */
  authAction: string;
  /** The audit action of a request refused by the rate limit. */
  rateAction: string;
  /** What every refusal's record holds (method, path). */
  params: Record<string, unknown>;
}

export interface TokenPipeline {
  /** Authenticate → limit; throws an audited AppError when the request may not go on. */
  admit(request: TokenRequest): Promise<Admission<TokenViewer>>;
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

export function createTokenPipeline(o: TokenPipelineOptions): TokenPipeline {
  const { wording } = o;
  const summarise = (_key: string, report: { refused: number }, note: unknown) => {
    const n = note as PendingNote | undefined;
    if (!n) return;
    void recordSafely(o.db(), n.meta, { actor: n.actor, action: n.action, outcome: "denied", params: { ...n.params, refused: report.refused }, errorMessage: n.summary(report.refused) }, o.log);
  };
  const tokens = new RateLimiter({ ...o.rate, onPendingReport: summarise });
  const failures = new RateLimiter({ ...o.authFailureRate, onPendingReport: summarise });
  const viewers = new ShortCache<TokenViewer>();
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

  async function authenticate(secret: string, meta: RequestMeta): Promise<TokenAuthentication> {
    // One primary-key read: a change made by another process or in SQL drops what is remembered, before it is used.
    await syncAccessGeneration(o.db());
    const key = hashTokenSecret(secret);
    const known = viewers.get(key);
    if (known) return { ok: true, viewer: known };
    const generation = viewers.generation();
    const result = await authenticateToken(o.db(), secret, meta);
    if (result.ok) viewers.set(key, result.viewer, generation, result.viewer.token.expiresAt?.getTime() ?? null);
    return result;
  }

  async function admit(r: TokenRequest): Promise<Admission<TokenViewer>> {
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

    // 1. Authenticate: the bearer token, before anything else is looked up.
    const header = r.authorization ?? null;
    const secret = bearerToken(header);
    const auth = secret ? await authenticate(secret, meta) : null;
    if (!auth?.ok) {
      const reason = !header ? "no bearer token" : !secret ? "malformed bearer token" : `token ${auth!.reason}`;
      const actor = auth?.actor ?? ANONYMOUS_ACTOR;
      const failure = { ...(secret ? { prefix: displayPrefix(secret) } : {}) };
      const summary = (n: number) => `${reason} (${n} failed attempts from this address summarised)`;
      const decision = charged ? ({ ok: true } as const) : failures.take(ipKey, { meta, actor, action: r.authAction, params: { ...params, ...failure }, summary } satisfies PendingNote);
      if (!decision.ok && o.blockFloods) block(ipKey, decision.retryAfterSeconds);
      if (decision.ok) await record(actor, r.authAction, failure, reason);
      else if (decision.report) await record(actor, r.authAction, { ...failure, refused: decision.report.refused }, summary(decision.report.refused));
      const message = !header ? wording.missing : auth ? wording.refusals[auth.reason] : wording.malformed;
      // RFC 6750: error="invalid_token" when a token was sent but can't be used.
      throw markAudited(new AppError("UNAUTHORIZED", message, { details: { invalidToken: header !== null } }));
    }
    const viewer = auth.viewer;

    // 2. Limit: how often, per token.
    let message = "";
    const rateNote: PendingNote = { meta, actor: viewer.actor, action: r.rateAction, params, summary: (n) => wording.rateLimitAudit(n, message) };
    const rate = tokens.take(`token:${viewer.token.id}`, rateNote);
    if (!rate.ok) {
      message = wording.tooManyRequests(rate.retryAfterSeconds);
      if (rate.report) await record(viewer.actor, r.rateAction, { refused: rate.report.refused }, wording.rateLimitAudit(rate.report.refused, message));
      throw markAudited(new AppError("TOO_MANY_REQUESTS", message, { details: { retryAfterSeconds: rate.retryAfterSeconds } }));
    }
    return new Admission(viewer, meta, o);
  }

  return {
    admit,
    flushPending() {
      tokens.flushPending();
      failures.flushPending();
    },
  };
}
