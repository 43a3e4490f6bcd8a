import "server-only";
import { TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { z, ZodError } from "zod";
import { AppError, type AppErrorCode } from "../errors";
import { fleetToAppError } from "../fleet/app-errors";
import { isFleetError } from "../fleet/errors";
import { isPolicyDeniedError } from "../../lib/policy/check";
import type { PolicyViolation } from "../../lib/policy/evaluate";

// The REST API's one mapping from errors to HTTP. Every error body is
// { error: { code, message, requestId } }; unexpected errors never show their message.

export type RestErrorCode = AppErrorCode | "METHOD_NOT_ALLOWED";

const STATUS: Record<RestErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  // The gateway waited on a host.
  TIMEOUT: 504,
};

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
}

export function statusOf(code: RestErrorCode): number {
  return STATUS[code];
}

export function isDenial(code: RestErrorCode): boolean {
  return code === "UNAUTHORIZED" || code === "FORBIDDEN";
}

/** Any thrown value → a code and a message fit for an API client. */
export function toRestError(e: unknown): RestError {
  if (isPolicyDeniedError(e)) return { code: "FORBIDDEN", message: e.message, violations: e.violations.map(({ rule, label, field, message }) => ({ rule, label, field, message })) };
  if (e instanceof TRPCError) {
    if (isPolicyDeniedError(e.cause)) return toRestError(e.cause);
    if (e.cause instanceof ZodError) return { code: "BAD_REQUEST", message: z.prettifyError(e.cause) };
    const code = FROM_TRPC[e.code];
    if (code && code !== "INTERNAL") return { code, message: e.message };
    return internalError(e.cause ?? e);
  }
  if (e instanceof AppError) return e.code === "INTERNAL" ? internalError(e) : { code: e.code, message: e.message };
  if (isFleetError(e)) return toRestError(fleetToAppError(e));
  if (e instanceof ZodError) return { code: "BAD_REQUEST", message: z.prettifyError(e) };
  return internalError(e);
}

function internalError(e: unknown): RestError {
  return { code: "INTERNAL", message: "Something went wrong on the server.", internal: e };
}

export function errorResponse(error: RestError, requestId: string | null, headers: Record<string, string> = {}): Response {
  const message = error.code === "INTERNAL" ? `${error.message} (request id ${requestId ?? "unknown"})` : error.message;
  return Response.json(
    { error: { code: error.code, message, requestId, ...(error.violations ? { violations: error.violations } : {}) } },
    { status: STATUS[error.code], headers: { "cache-control": "no-store", ...headers } },
  );
}
