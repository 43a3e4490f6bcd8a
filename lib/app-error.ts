import type { PolicyViolation } from "./policy/evaluate";

// The gateway's one error family. Services, the policy gate and the fleet
// throw an AppError (or a subclass: FleetError, PolicyDeniedError, …) with a
// code and, where a client needs more than a message, details. Each boundary
// maps codes once: tRPC (server/trpc.ts), REST (server/rest/errors.ts) and the
// Docker-API proxy (server/docker-proxy/docker-errors.ts). Pure, so the shared
// policy code can throw it too.

export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "TOO_MANY_REQUESTS"
  | "PAYLOAD_TOO_LARGE"
  | "PRECONDITION_FAILED"
  | "UNAVAILABLE"
  | "TIMEOUT"
  | "INTERNAL";

/** What a boundary may show or act on besides the message. Every field is optional; none holds a secret. */
export interface AppErrorDetails {
  /** A deploy-policy denial: each broken rule, with the spec field it concerns. */
  policyViolations?: readonly PolicyViolation[];
  /** The HTTP status a host's agent answered with. */
  status?: number;
  /** The host a failure concerns, by name (for messages). */
  host?: string;
  /** The key a host presented instead of the pinned one. */
  presentedFingerprint?: string;
  /** Seconds until a retry may succeed (Retry-After). */
  retryAfterSeconds?: number;
  /** A bearer token was sent but can't be used (RFC 6750's error="invalid_token"). */
  invalidToken?: boolean;
  /** Where the failure happened when it wasn't the gateway itself: a host's agent (a Docker client is told 502). */
  upstream?: "agent";
}

/**
 * A mark rather than instanceof: the gateway's entry point (server/main.ts,
 * where the Docker-API proxy and the exec terminal run) and Next's server
 * bundle each load their own copy of this module. Symbol.for is one registry
 * for the whole process.
 */
const BRAND = Symbol.for("berth.app-error");

export class AppError<C extends string = AppErrorCode> extends Error {
  readonly code: C;
  readonly details: AppErrorDetails;

  constructor(code: C, message: string, options: { cause?: unknown; details?: AppErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details ?? {};
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** An AppError (or any subclass) from any copy of this module. */
export function isAppError(e: unknown): e is AppError<string> {
  return e instanceof Error && (e as unknown as Record<symbol, unknown>)[BRAND] === true && typeof (e as { code?: unknown }).code === "string";
}
