import "server-only";
import type { AppErrorCode } from "../errors";

/**
 * The HTTP status of each AppError code, for the gateway's HTTP boundaries:
 * the REST API (server/rest/errors.ts, which adds 405), the Docker-API proxy
 * (docker-errors.ts, which answers 502 for a host's agent), and the
 * session-cookie routes outside tRPC (the exec terminal, the console's export).
 */
export const HTTP_STATUS: Readonly<Record<AppErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  // The gateway waited on a host.
  TIMEOUT: 504,
};
