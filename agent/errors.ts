// The agent's one error family. Every failure the agent means to report
// throws an AgentError (or a thin subclass naming where it comes from:
// EngineError, ImageError, SpecError, …) carrying one of these codes. The
// Docker API maps the code to a status in one place (api/errors.ts), the
// command line prints the message; neither looks at the subclass.
//
// Anything else that escapes (a Node fs error, a bug) is an internal error:
// a client is told only that one happened, the detail goes to the agent's log.

export type AgentErrorCode =
  // The request can't be served as asked (400).
  | "INVALID"
  | "INVALID_REFERENCE"
  | "INVALID_ARCHIVE"
  | "UNSUPPORTED"
  /** A layer refused (it would write outside its root) or damaged (truncated, not a tar). */
  | "UNSAFE_LAYER"
  | "CORRUPT_LAYER"
  /** The runtime refused to start the process ("executable file not found"…): 400, as dockerd answers. */
  | "RUNTIME"
  /** A build step failed, or the Dockerfile asks for what this builder can't do. */
  | "BUILD_FAILED"
  | "UNAUTHORIZED" // 401: the registry wants (other) credentials
  | "FORBIDDEN" // 403: the gateway's confinement (deploy policy) refuses it
  | "DENIED" // 403: the registry refuses it
  | "NOT_FOUND" // 404
  | "CONFLICT" // 409
  | "IN_USE" // 409: a snapshot other snapshots stand on
  | "NOT_MODIFIED" // 304: start a running container, stop a stopped one
  | "RATE_LIMITED" // 429: the registry asks us to come back later (Retry-After)
  // Something outside the request failed; the message is ours and names it (500).
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "UNREACHABLE"
  | "REGISTRY_ERROR"
  | "MOUNT_FAILED"
  | "IO"
  | "INTERNAL";

/** Subclasses narrow the codes and set `name` (a class field: bundling may rename the class itself). */
export class AgentError<C extends AgentErrorCode = AgentErrorCode> extends Error {
  override name = "AgentError";
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
