import "server-only";
import { writeAudit } from "../audit/write";
import { ANONYMOUS_ACTOR, type Actor, type AuditOutcome, type RequestMeta } from "../audit/types";
import { requestMetaFrom } from "../auth/request-meta";
import { db } from "../db";
import { env } from "../env";
import { AppError } from "../errors";
import { limitedRequest } from "../http/limited-request";
import { displayPrefix, bearerToken } from "../tokens/format";
import { authenticateToken, type TokenRefusal, type TokenViewer } from "../tokens/viewer-for-token";
import { callerFor, type ApiCaller } from "./caller";
import { errorResponse, isDenial, toRestError, type RestError } from "./errors";
import { TOKEN_RATE } from "./limits";
import { RateLimiter } from "./rate-limit";

// Every /api/v1 route goes through restRoute: bearer token → viewer, rate
// limit per token, body cap, then the resource (which calls tRPC procedures
// through `caller`). Denials and mutations are audited here with the token as
// the actor; the procedures called add their own records as in the console.

export { TOKEN_RATE };
/** Per client address: failed authentications audited one by one up to a burst, then summarised once a second. */
const AUTH_FAILURE_AUDIT = { perSecond: 2, burst: 20 } as const;

// Shared by every route bundle Next builds (each may load its own copy of this module).
const holder = globalThis as unknown as { berthRestLimits?: { tokens: RateLimiter; authFailures: RateLimiter } };
function limits() {
  holder.berthRestLimits ??= {
    tokens: new RateLimiter({ ...TOKEN_RATE, onPendingReport: (_key, report, note) => auditPending(note as PendingNote, report.refused, "rate") }),
    authFailures: new RateLimiter({ ...AUTH_FAILURE_AUDIT, onPendingReport: (_key, report, note) => auditPending(note as PendingNote, report.refused, "auth") }),
  };
  return holder.berthRestLimits;
}

/** What a refusal that isn't audited at once is taken with, to audit the count later. */
interface PendingNote {
  meta: RequestMeta;
  actor: Actor;
  action: string;
  params: Record<string, unknown>;
  reason: string;
}

/**
 * Refusals counted after the last record (the client stopped before another
 * one was due): one record with their number, so none go unaudited.
 */
function auditPending(note: PendingNote | undefined, refused: number, kind: "rate" | "auth") {
  if (!note) return;
  const errorMessage =
    kind === "rate"
      ? `rate limit: ${TOKEN_RATE.perSecond} requests a second, bursts of ${TOKEN_RATE.burst} (${refused} refused since the last record)`
      : `${note.reason} (${refused} failed attempts from this address summarised)`;
  void audit(note.meta, { actor: note.actor, action: note.action, outcome: "denied", params: { ...note.params, refused }, errorMessage });
}

export interface RestAudit {
  hostId?: string | null;
  target?: { type: string; id?: string | null } | null;
  /** Added to the record's params (method and path are always there). Keys with "token" or "secret" in them are masked. */
  params?: Record<string, unknown>;
  /**
   * For answers streamed after the handler returns (a pull's progress): the
   * record is written when this settles, with its outcome (null: success).
   */
  settled?: Promise<RestError | null>;
}

export interface RestRequest<P> {
  viewer: TokenViewer;
  /** tRPC procedures, called as this token. */
  caller: ApiCaller;
  /** Aborted when the client goes away (give it to callerFor for a call that should stop then). */
  signal: AbortSignal;
  meta: RequestMeta;
  /** The request with its body read under the size cap. */
  request: Request;
  params: P;
  audit: RestAudit;
  /**
   * Writes this request's success record now rather than after the handler
   * (nothing is written after it then): an audit export records itself before
   * it reads, so it is part of what it covers.
   */
  recordSuccess: () => Promise<void>;
}

export interface RestRouteSpec {
  /** The audit action, "api.v1.<resource>.<verb>". */
  action: string;
  /** Mutations are audited whatever the outcome; reads only when denied. */
  mutation?: boolean;
}

type RouteContext<P> = { params: Promise<P> };

const REFUSAL_MESSAGES: Record<TokenRefusal, string> = {
  unknown: "Invalid API token.",
  expired: "This API token has expired.",
  revoked: "This API token has been revoked.",
  ownerDisabled: "The owner of this API token is disabled.",
};

/** Writes one audit record for an API request; a failed write is logged, never thrown. */
export async function audit(meta: RequestMeta, record: { actor: Actor; action: string; outcome: AuditOutcome; params: Record<string, unknown>; errorMessage?: string | null; hostId?: string | null; target?: RestAudit["target"] }) {
  try {
    await writeAudit(db(), { ...record, request: meta });
  } catch (e) {
    console.error(`[berth] api: audit write failed for ${record.action} (request ${meta.requestId}):`, e instanceof Error ? e.message : e);
  }
}

function unauthorized(message: string, requestId: string | null, invalidToken: boolean): Response {
  // RFC 6750: error="invalid_token" when a token was sent but can't be used.
  const challenge = invalidToken ? 'Bearer realm="berth", error="invalid_token"' : 'Bearer realm="berth"';
  return errorResponse({ code: "UNAUTHORIZED", message }, requestId, { "www-authenticate": challenge });
}

/** A Next route handler for one /api/v1 resource and method. */
export function restRoute<P extends object = Record<string, never>>(
  spec: RestRouteSpec,
  run: (r: RestRequest<P>) => Promise<unknown>,
): (req: Request, context: RouteContext<P>) => Promise<Response> {
  return async (req, context) => {
    const meta = requestMetaFrom(req.headers);
    const requestId = meta.requestId;
    const base = { method: req.method, path: new URL(req.url).pathname };
    try {
      // 1. Who: the bearer token, checked against the database on every request.
      const header = req.headers.get("authorization");
      const secret = bearerToken(header);
      const auth = secret ? await authenticateToken(db(), secret, meta) : null;
      if (!auth?.ok) {
        const reason = !header ? "no bearer token" : !secret ? "malformed bearer token" : `token ${auth!.reason}`;
        const clientKey = `ip:${meta.ip ?? "unknown"}`;
        const actor = auth?.actor ?? ANONYMOUS_ACTOR;
        const params = { ...base, ...(secret ? { prefix: displayPrefix(secret) } : {}) };
        const decision = limits().authFailures.take(clientKey, { meta, actor, action: spec.action, params, reason } satisfies PendingNote);
        if (decision.ok || decision.report) {
          await audit(meta, {
            actor,
            action: spec.action,
            outcome: "denied",
            params: { ...params, ...(decision.ok ? {} : { refused: decision.report!.refused }) },
            errorMessage: decision.ok ? reason : `${reason} (${decision.report!.refused} failed attempts from this address summarised)`,
          });
        }
        if (!header) return unauthorized("Send an API token: Authorization: Bearer berth_…", requestId, false);
        return unauthorized(auth ? REFUSAL_MESSAGES[auth.reason] : "Malformed Authorization header: expected Bearer berth_…", requestId, true);
      }
      const { viewer } = auth;

      // 2. How often: per token.
      const rate = limits().tokens.take(`token:${viewer.token.id}`, { meta, actor: viewer.actor, action: spec.action, params: base, reason: "rate limit" } satisfies PendingNote);
      if (!rate.ok) {
        if (rate.report) {
          await audit(meta, {
            actor: viewer.actor,
            action: spec.action,
            outcome: "denied",
            params: { ...base, refused: rate.report.refused },
            errorMessage: `rate limit: ${TOKEN_RATE.perSecond} requests a second, bursts of ${TOKEN_RATE.burst} (${rate.report.refused} refused since the last record)`,
          });
        }
        return errorResponse(
          { code: "TOO_MANY_REQUESTS", message: `Too many requests for this token; retry in ${rate.retryAfterSeconds} s.` },
          requestId,
          { "retry-after": String(rate.retryAfterSeconds) },
        );
      }

      // 3. The resource.
      const note: RestAudit = {};
      let recorded = false;
      const finish = async (outcome: AuditOutcome, error: RestError | null) => {
        if (recorded || (!spec.mutation && outcome !== "denied")) return;
        recorded = true;
        await audit(meta, {
          actor: viewer.actor,
          action: spec.action,
          outcome,
          params: { ...base, ...note.params },
          errorMessage: error?.code === "INTERNAL" ? "internal error" : (error?.message ?? null),
          hostId: note.hostId ?? null,
          target: note.target ?? null,
        });
      };
      try {
        const request = await limitedRequest(req, env().BERTH_MAX_BODY_BYTES);
        const params = (await context.params) ?? ({} as P);
        const recordSuccess = () => finish("success", null);
        const result = await run({ viewer, caller: callerFor(viewer, meta), meta, request, params, audit: note, recordSuccess, signal: req.signal });
        if (note.settled) {
          const settled = note.settled;
          void settled.then(
            (error) => finish(error ? (isDenial(error.code) ? "denied" : "error") : "success", error),
            (e: unknown) => finish("error", toRestError(e)),
          );
        } else await finish("success", null);
        if (result instanceof Response) return result;
        return Response.json(result, { headers: { "cache-control": "no-store" } });
      } catch (e) {
        const error = toRestError(e);
        if (error.internal) console.error(`[berth] api ${spec.action} (request ${requestId}) failed:`, error.internal);
        await finish(isDenial(error.code) ? "denied" : "error", error);
        return errorResponse(error, requestId);
      }
    } catch (e) {
      console.error(`[berth] api ${spec.action} (request ${requestId}) failed:`, e);
      return errorResponse(toRestError(e), requestId);
    }
  };
}

/** For a path under /api/v1 that names no resource (after the token is checked, so paths can't be probed without one). */
export const notFoundRoute = restRoute<{ path?: string[] }>({ action: "api.v1.notFound" }, async ({ request }) => {
  throw new AppError("NOT_FOUND", `No such API resource: ${request.method} ${new URL(request.url).pathname}`);
});

/** For methods a resource doesn't have. */
export function methodNotAllowed(allowed: string[]) {
  return async (req: Request): Promise<Response> =>
    errorResponse(
      { code: "METHOD_NOT_ALLOWED", message: `${req.method} is not supported here; use ${allowed.join(", ")}.` },
      requestMetaFrom(req.headers).requestId,
      { allow: allowed.join(", ") },
    );
}
