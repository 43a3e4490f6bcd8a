import "server-only";
import { z, ZodError } from "zod";
import { AppError, type AppErrorCode, isAppError } from "../lib/app-error";
import { isInputError } from "../lib/errors";
import { agentFailureLogLine, fleetToAppError, isAgentFailure } from "./fleet/app-errors";
import { isFleetError } from "./fleet/errors";

// Typed application errors (lib/app-error.ts). Services throw AppError; each
// boundary (tRPC, REST, Docker API) maps the code once, after toAppError has
// brought whatever was thrown into the family.

export { AppError, isAppError, type AppErrorCode, type AppErrorDetails } from "../lib/app-error";

export interface ErrorContext {
  /** The request's id, quoted in a message that hides a host's own words. */
  requestId: string | null;
  /** Where a hidden message goes (the gateway's log). */
  log?: (line: string) => void;
}

const defaultLog = (line: string) => console.error(`[berth] ${line}`);

/**
 * What was thrown, as an AppError with a gateway code, or null for an
 * unexpected error (a bug: the boundary answers INTERNAL with the request id
 * and logs it). A host's failure (FleetError) gets the code that says what
 * the user can do about it; an agent's internal error (5xx) is never shown:
 * the client reads "the agent on host X failed (request id …)" and the
 * agent's message goes to the log.
 */
export function toAppError(e: unknown, context: ErrorContext): AppError | null {
  if (isFleetError(e)) {
    if (isAgentFailure(e)) {
      (context.log ?? defaultLog)(agentFailureLogLine(e.details.host, e.details.status, context.requestId, e.message));
    }
    return fleetToAppError(e, context.requestId);
  }
  if (isAppError(e)) return isGatewayCode(e.code) ? (e as AppError) : null;
  if (isInputError(e)) return new AppError("BAD_REQUEST", e.message, { cause: e });
  if (e instanceof ZodError) return new AppError("BAD_REQUEST", z.prettifyError(e), { cause: e });
  return null;
}

const GATEWAY_CODES: ReadonlySet<string> = new Set<AppErrorCode>([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "TOO_MANY_REQUESTS",
  "PAYLOAD_TOO_LARGE",
  "PRECONDITION_FAILED",
  "UNAVAILABLE",
  "TIMEOUT",
  "INTERNAL",
]);

function isGatewayCode(code: string): code is AppErrorCode {
  return GATEWAY_CODES.has(code);
}

/** Denials are audited as "denied"; every other failure as "error". */
export function isDenialCode(code: string): boolean {
  return code === "UNAUTHORIZED" || code === "FORBIDDEN";
}
