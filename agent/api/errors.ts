import { isInputError } from "../../lib/errors";
import { AgentError, type AgentErrorCode } from "../errors";
import { ImageError } from "../images/errors";

// The one place the agent's errors become Docker API answers: an AgentError's
// code picks the status, lib's InputError (the request doesn't parse) is a
// 400, and anything else is an internal error, which a client sees only as
// one (its detail goes to the agent's log).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** An error nobody meant to report (a bug, a failed syscall): its message is for the log, not the client. */
    readonly internal = false,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What a client is told of an internal error. */
export const INTERNAL_MESSAGE = "internal error in the agent (see its log)";

const STATUS: Record<AgentErrorCode, number> = {
  INVALID: 400,
  INVALID_REFERENCE: 400,
  INVALID_ARCHIVE: 400,
  UNSUPPORTED: 400,
  UNSAFE_LAYER: 400,
  CORRUPT_LAYER: 400,
  RUNTIME: 400,
  BUILD_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IN_USE: 409,
  NOT_MODIFIED: 304,
  RATE_LIMITED: 429,
  DIGEST_MISMATCH: 500,
  SIZE_MISMATCH: 500,
  UNREACHABLE: 500,
  REGISTRY_ERROR: 500,
  MOUNT_FAILED: 500,
  IO: 500,
  INTERNAL: 500,
};

/** The status and message for an error, the detail of an internal one included (see toClientError for the answer). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof AgentError) {
    const code: AgentErrorCode = e.code;
    // Docker's wording, which `docker run` reads to decide to pull.
    if (e instanceof ImageError && code === "NOT_FOUND" && /^no such image: /.test(e.message)) return new ApiError(404, e.message.replace(/^no such image/, "No such image"));
    return new ApiError(STATUS[code], e.message);
  }
  if (isInputError(e)) return new ApiError(400, e.message);
  return new ApiError(500, e instanceof Error ? e.message : String(e), true);
}

/**
 * The answer a client gets: toApiError's, except that an internal error says
 * only that it happened, and its detail (with the stack) goes to `log`.
 */
export function toClientError(e: unknown, log: (line: string) => void = (line) => process.stderr.write(line)): ApiError {
  const err = toApiError(e);
  if (!err.internal) return err;
  log(`berth-agent: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return new ApiError(500, INTERNAL_MESSAGE);
}
