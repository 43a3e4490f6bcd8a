// Typed errors of the image store. The CLI prints `message`; the Docker API
// (next issue) maps `code` to an HTTP status in one place.
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

export class ImageError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ImageError";
    this.code = code;
  }
}
