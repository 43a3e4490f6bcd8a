import "server-only";
import { TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { z, ZodError } from "zod";
import { type AppErrorCode, isAppError, isDenialCode, toAppError } from "../errors";
import { HTTP_STATUS } from "../http/status";
import type { PolicyViolation } from "../../lib/policy/evaluate";

// The REST API's one mapping from errors to HTTP. Every error body is
// { error: { code, message, requestId } }; unexpected errors never show their message.

export type RestErrorCode = AppErrorCode | "METHOD_NOT_ALLOWED";

const STATUS: Record<RestErrorCode, number> = { ...HTTP_STATUS, METHOD_NOT_ALLOWED: 405 };

const FROM_TRPC: Partial<Record<TRPC_ERROR_CODE_KEY, AppErrorCode>> = {
  PARSE_ERROR: "BAD_REQUEST",
  BAD_REQUEST: "BAD_REQUEST",
  UNPROCESSABLE_CONTENT: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  TIMEOUT: "TIMEOUT",
  SERVICE_UNAVAILABLE: "UNAVAILABLE",
  BAD_GATEWAY: "UNAVAILABLE",
  GATEWAY_TIMEOUT: "TIMEOUT",
};

export interface RestError {
  code: RestErrorCode;
  message: string;
  /** The original error, for the server log when it was unexpected. */
  internal?: unknown;
  /** A deploy policy denial: each broken rule, with the spec field it concerns. */
  violations?: PolicyViolation[];
  /** For Retry-After. */
  retryAfterSeconds?: number;
  /** A token was sent but can't be used: the challenge says error="invalid_token" (RFC 6750). */
  invalidToken?: boolean;
}

export function statusOf(code: RestErrorCode): number {
  return STATUS[code];
}

export function isDenial(code: RestErrorCode): boolean {
  return isDenialCode(code);
}

/** Any thrown value → a code and a message fit for an API client. */
export function toRestError(e: unknown, requestId: string | null = null): RestError {
  if (e instanceof TRPCError) {
    // The procedure's own mapping (server/trpc.ts) already made the cause an AppError, or it is a bug.
    if (isAppError(e.cause)) return toRestError(e.cause, requestId);
    if (e.cause instanceof ZodError) return { code: "BAD_REQUEST", message: z.prettifyError(e.cause) };
    const code = FROM_TRPC[e.code];
    if (code && code !== "INTERNAL") return { code, message: e.message };
    return internalError(e.cause ?? e);
  }
  const app = toAppError(e, { requestId });
  if (!app || app.code === "INTERNAL") return internalError(e);
  const { policyViolations, retryAfterSeconds, invalidToken } = app.details;
  return {
    code: app.code,
    message: app.message,
    ...(policyViolations ? { violations: policyViolations.map(({ rule, label, field, message }) => ({ rule, label, field, message })) } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    ...(invalidToken !== undefined ? { invalidToken } : {}),
  };
}

function internalError(e: unknown): RestError {
  return { code: "INTERNAL", message: "Something went wrong on the server.", internal: e };
}

/** The headers an error answer carries: the bearer challenge with a 401, Retry-After with a 429. */
function headersFor(error: RestError): Record<string, string> {
  if (error.code === "UNAUTHORIZED") return { "www-authenticate": error.invalidToken ? 'Bearer realm="berth", error="invalid_token"' : 'Bearer realm="berth"' };
  if (error.code === "TOO_MANY_REQUESTS" && error.retryAfterSeconds !== undefined) return { "retry-after": String(error.retryAfterSeconds) };
  return {};
}

export function errorResponse(error: RestError, requestId: string | null, headers: Record<string, string> = {}): Response {
  const message = error.code === "INTERNAL" ? `${error.message} (request id ${requestId ?? "unknown"})` : error.message;
  return Response.json(
    { error: { code: error.code, message, requestId, ...(error.violations ? { violations: error.violations } : {}) } },
    { status: STATUS[error.code], headers: { "cache-control": "no-store", ...headersFor(error), ...headers } },
  );
}
