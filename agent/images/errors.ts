import { AgentError } from "../errors";

// The image store's errors: AgentErrors with the codes the store uses. The
// CLI prints `message`; the Docker API maps `code` to a status (api/errors.ts).
export type ImageErrorCode =
  | "INVALID_REFERENCE"
  | "NOT_FOUND"
  | "UNAUTHORIZED"
  | "DENIED"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "UNREACHABLE"
  | "REGISTRY_ERROR"
  | "UNSUPPORTED"
  | "CONFLICT"
  | "INVALID_ARCHIVE"
  | "RATE_LIMITED";

export class ImageError extends AgentError<ImageErrorCode> {
  override name = "ImageError";
}

/** The registry answered 429: not asked again for `retryAfterSeconds` (its Retry-After, or a default). */
export class RegistryRateLimited extends ImageError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("RATE_LIMITED", message);
  }
}
