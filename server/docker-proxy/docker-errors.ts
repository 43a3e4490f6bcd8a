import "server-only";
import type { AuditOutcome } from "../audit/types";
import { type AppError, toAppError } from "../errors";
import { HTTP_STATUS } from "../http/status";

// The Docker-API proxy's one mapping from errors to Docker API answers
// ({"message"} with a Docker status), and the pieces of an agent's answer
// the audit record keeps.


export interface DockerAnswer {
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** The answer for an error the proxy understands (an AppError, a host's failure); null for a bug (the caller answers 500 and logs it). */
export function dockerAnswerOf(e: unknown, requestId: string | null, log: (line: string) => void): DockerAnswer | null {
  const app = toAppError(e, { requestId, log });
  if (!app || app.code === "INTERNAL") return null;
  return { status: dockerStatusOf(app), message: app.message, headers: headersOf(app) };
}

/** A host's agent that can't be reached or answered wrongly is a bad gateway (502); the rest of UNAVAILABLE is 503. */
function dockerStatusOf(app: AppError): number {
  if (app.code === "UNAVAILABLE" && app.details.upstream === "agent") return 502;
  return HTTP_STATUS[app.code];
}

function headersOf(app: AppError): Record<string, string> {
  if (app.code === "UNAUTHORIZED") return { "www-authenticate": 'Bearer realm="berth"' };
  if (app.code === "TOO_MANY_REQUESTS" && app.details.retryAfterSeconds !== undefined) return { "retry-after": String(app.details.retryAfterSeconds) };
  return {};
}

export function internalAnswer(requestId: string | null): DockerAnswer {
  return { status: 500, message: `internal error in the Berth gateway (request id ${requestId})`, headers: {} };
}

/** An agent's answer status as an audit outcome. */
export function outcomeOf(status: number): AuditOutcome {
  return status < 400 ? "success" : status === 401 || status === 403 ? "denied" : "error";
}

/** The message of a Docker error body, or the text. */
export function dockerMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500);
}

/** The last error in a JSON progress stream (pull, push, build), if any. */
export function progressError(tail: string): string | null {
  const lines = tail.split(/\r?\n/).filter((l) => l.includes('"error'));
  for (const line of lines.reverse()) {
    try {
      const parsed = JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } };
      const message = parsed.errorDetail?.message ?? parsed.error;
      if (typeof message === "string") return message;
    } catch {
      // a partial line at the start of the tail
    }
  }
  return null;
}
