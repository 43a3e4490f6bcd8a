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
  | "INVALID_ARCHIVE";

export class ImageError extends AgentError<ImageErrorCode> {
  override name = "ImageError";
}
