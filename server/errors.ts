import "server-only";
// Typed application errors. Services throw AppError; each boundary (tRPC,
// REST, Docker API) maps the code once.
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

export class AppError extends Error {
  readonly code: AppErrorCode;
  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
