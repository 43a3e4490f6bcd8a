import "server-only";
import type { AuditOutcome, RequestMeta } from "../audit/types";
import { requestMetaFrom } from "../auth/request-meta";
import { db } from "../db";
import { env } from "../env";
import { AppError } from "../errors";
import { limitedRequest } from "../http/limited-request";
import { recordSafely, type AuditEntry, isAudited } from "../pipeline/audit-log";
import { createTokenPipeline, type TokenPipeline, type TokenWording } from "../pipeline/token-pipeline";
import type { TokenViewer } from "../tokens/viewer-for-token";
import { callerFor, type ApiCaller } from "./caller";
import { errorResponse, isDenial, toRestError, type RestError } from "./errors";
import { TOKEN_RATE } from "./limits";

// Every /api/v1 route goes through restRoute: the token pipeline
// (server/pipeline/token-pipeline.ts: bearer token → viewer, rate limit per
// token), the body cap, then the resource, which calls tRPC procedures
// through `caller` (they authorise: permission and host scope, and record
// their own intent and outcome as in the console). Denials and mutations are
// audited here too, with the token as the actor.

export { TOKEN_RATE };
/** Per client address: failed authentications audited one by one up to a burst, then summarised once a second. */
const AUTH_FAILURE_AUDIT = { perSecond: 2, burst: 20 } as const;

const log = (line: string) => console.error(`[berth] api: ${line}`);

const WORDING: TokenWording = {
  missing: "Send an API token: Authorization: Bearer berth_…",
  malformed: "Malformed Authorization header: expected Bearer berth_…",
  refusals: {
    unknown: "Invalid API token.",
    expired: "This API token has expired.",
    revoked: "This API token has been revoked.",
    ownerDisabled: "The owner of this API token is disabled.",
  },
  tooManyRequests: (s) => `Too many requests for this token; retry in ${s} s.`,
  rateLimitAudit: (refused) => `rate limit: ${TOKEN_RATE.perSecond} requests a second, bursts of ${TOKEN_RATE.burst} (${refused} refused since the last record)`,
  // Not used: a REST client past the failure rate is still answered 401 (only its records are summarised).
  tooManyFailures: (s) => `Too many failed authentications from this address; retry in ${s} s.`,
};

// One pipeline for every route bundle Next builds (each may load its own copy of this module): the limits are shared.
const holder = globalThis as unknown as { berthRestPipeline?: TokenPipeline };
function pipeline(): TokenPipeline {
  holder.berthRestPipeline ??= createTokenPipeline({ db, log, rate: TOKEN_RATE, authFailureRate: AUTH_FAILURE_AUDIT, blockFloods: false, wording: WORDING });
  return holder.berthRestPipeline;
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

/** Writes one audit record for an API request; a failed write is logged, never thrown. */
export function audit(meta: RequestMeta, entry: AuditEntry): Promise<void> {
  return recordSafely(db(), meta, entry, log);
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
      // 1–2. Who, and how often (both audited when refused).
      const admission = await pipeline().admit({ authorization: req.headers.get("authorization"), meta, authAction: spec.action, rateAction: spec.action, params: base });
      const viewer = admission.viewer;

      // 3. The resource.
      const note: RestAudit = {};
      let recorded = false;
      const finish = async (outcome: AuditOutcome, error: RestError | null) => {
        if (recorded || (!spec.mutation && outcome !== "denied")) return;
        recorded = true;
        await admission.record({
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
            (e: unknown) => finish("error", toRestError(e, requestId)),
          );
        } else await finish("success", null);
        if (result instanceof Response) return result;
        return Response.json(result, { headers: { "cache-control": "no-store" } });
      } catch (e) {
        const error = toRestError(e, requestId);
        if (error.internal) console.error(`[berth] api ${spec.action} (request ${requestId}) failed:`, error.internal);
        await finish(isDenial(error.code) ? "denied" : "error", error);
        return errorResponse(error, requestId);
      }
    } catch (e) {
      if (!isAudited(e)) console.error(`[berth] api ${spec.action} (request ${requestId}) failed:`, e);
      return errorResponse(toRestError(e, requestId), requestId);
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
