import "server-only";
import { AppError, type AppErrorCode } from "../../lib/app-error";
import type { FleetError, FleetErrorCode } from "./errors";

// A host's failure as the gateway code every boundary maps. Only the agent's
// own 4xx answers keep their words (they are about the request: no such
// container, name in use); an agent's 5xx is its internal error, which no
// client reads: they get "the agent on host X failed (request id …)", and
// toAppError (server/errors.ts) logs the agent's message under that id.

const CODES: Record<FleetErrorCode, AppErrorCode> = {
  UNREACHABLE: "UNAVAILABLE",
  TIMEOUT: "TIMEOUT",
  AUTH_REFUSED: "PRECONDITION_FAILED",
  BAD_CREDENTIAL: "BAD_REQUEST",
  HOST_KEY_CHANGED: "CONFLICT",
  NOT_LINUX: "PRECONDITION_FAILED",
  AGENT_UNREACHABLE: "UNAVAILABLE",
  AGENT_ERROR: "BAD_REQUEST",
  INSTALL_FAILED: "PRECONDITION_FAILED",
};

/** The agent answered with an internal error (HTTP 5xx): its message stays in the gateway's log. */
export function isAgentFailure(e: FleetError): boolean {
  return e.code === "AGENT_ERROR" && (e.details.status ?? 0) >= 500;
}

/** The message a client reads instead of an agent's internal error. */
export function agentFailedMessage(host: string | undefined, requestId: string | null | undefined): string {
  return `The agent on host ${host ?? "(unknown)"} failed (request id ${requestId ?? "unknown"}).`;
}

/** The gateway log's line for an agent's internal error that a client was not shown. */
export function agentFailureLogLine(host: string | undefined, status: number | undefined, requestId: string | null | undefined, message: string): string {
  return `request ${requestId ?? "unknown"}: the agent on host ${host ?? "(unknown)"} answered HTTP ${status ?? "?"}: ${message}`;
}

export function fleetToAppError(e: FleetError, requestId?: string | null): AppError {
  const details = { ...e.details, ...(e.code === "AGENT_UNREACHABLE" ? { upstream: "agent" as const } : {}) };
  const as = (code: AppErrorCode, message = e.message) => new AppError(code, message, { cause: e, details });
  // The agent's own 404/409 keep their meaning.
  if (e.code === "AGENT_ERROR" && e.details.status === 404) return as("NOT_FOUND");
  if (e.code === "AGENT_ERROR" && e.details.status === 409) return as("CONFLICT");
  if (isAgentFailure(e)) return as("UNAVAILABLE", agentFailedMessage(e.details.host, requestId));
  return as(CODES[e.code]);
}
