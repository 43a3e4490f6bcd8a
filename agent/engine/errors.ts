// Typed errors of the container engine. The Docker API maps `code` to an HTTP
// status in one place (api/errors.ts); the engine never sees HTTP.
export type EngineErrorCode =
  | "INVALID" // 400
  | "NOT_FOUND" // 404
  | "CONFLICT" // 409
  | "NOT_MODIFIED" // 304
  | "FORBIDDEN" // 403: a confinement the gateway set (deploy policy) refuses it
  | "RUNTIME" // 400 (as dockerd answers a failed start), the runtime refused: "executable file not found" etc.
  | "INTERNAL";

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EngineError";
    this.code = code;
  }
}
