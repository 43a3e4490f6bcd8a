import "server-only";
import type { RequestMeta } from "../audit/types";
import { syncAccessGeneration } from "../auth/generation";
import { bearerToken, displayPrefix, hashTokenSecret } from "../tokens/format";
import { authenticateToken, type TokenAuthentication, type TokenRefusal, type TokenViewer } from "../tokens/viewer-for-token";
import type { Admission, PipelineContext } from "./admission";
import { type CredentialCheck, type CredentialWording, createCredentialPipeline } from "./credential-pipeline";
import { ShortCache } from "./short-cache";

// The pipeline for bearer-token entry points (the REST API, the Docker-API
// proxy): the credential pipeline (credential-pipeline.ts, which deploy
// webhooks use with their own credential) with the API token as credential:
//
//   authenticate → limit → authorise (permission + host scope) → audit
//
// admit() does the first two and hands back an Admission, whose authorise(),
// deny() and trail() are the rest (server/pipeline/admission.ts); the
// session-cookie entry points get the same Admission from admitSession. A new
// entry point is a few lines:
//
//   const pipeline = createTokenPipeline({ db, log, rate, authFailureRate, blockFloods: false, wording });
//   const caller = await pipeline.admit({ authorization, meta, authAction: "api.v1.x", rateAction: "api.v1.x", params });
//   await caller.authorise({ permissions: ["containers.deploy"], host, message, denial });
//   const trail = caller.trail("api.v1.x"); await trail.intent(); …act…; await trail.outcome("success", null);
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
export interface TokenWording extends CredentialWording {
  /** No Authorization header. */
  missing: string;
  /** An Authorization header that isn't `Bearer berth_…`. */
  malformed: string;
  refusals: Record<TokenRefusal, string>;
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

export function createTokenPipeline(o: TokenPipelineOptions): TokenPipeline {
  const { wording } = o;
  const viewers = new ShortCache<TokenViewer>();

  async function lookUp(secret: string, meta: RequestMeta): Promise<TokenAuthentication> {
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

  // The bearer token: checked against the database, remembered for at most 1 s.
  async function authenticate(header: string | null, meta: RequestMeta): Promise<CredentialCheck<TokenViewer>> {
    const secret = bearerToken(header);
    const auth = secret ? await lookUp(secret, meta) : null;
    if (auth?.ok) return { ok: true, viewer: auth.viewer, rateKey: `token:${auth.viewer.token.id}` };
    return {
      ok: false,
      actor: auth?.actor ?? null,
      reason: !header ? "no bearer token" : !secret ? "malformed bearer token" : `token ${auth!.reason}`,
      message: !header ? wording.missing : auth ? wording.refusals[auth.reason] : wording.malformed,
      params: secret ? { prefix: displayPrefix(secret) } : {},
      // RFC 6750: error="invalid_token" when a token was sent but can't be used.
      details: { invalidToken: header !== null },
    };
  }

  const pipeline = createCredentialPipeline<string | null, TokenViewer>({ ...o, authenticate });
  return {
    admit: (r) => pipeline.admit({ credential: r.authorization ?? null, meta: r.meta, authAction: r.authAction, rateAction: r.rateAction, params: r.params }),
    flushPending: () => pipeline.flushPending(),
  };
}
