import { isInputError } from "../../lib/errors";
import { EngineError } from "../engine/errors";
import { ImageError } from "../images/errors";
import { SpecError } from "../runtime/spec";
import { UserResolveError } from "../engine/resolve-user";
import { NetworkError } from "../network/manager";
import { VolumeError } from "../volumes/store";

// The one place engine and image errors become Docker API statuses.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const ENGINE_STATUS: Record<EngineError["code"], number> = {
  INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_MODIFIED: 304,
  FORBIDDEN: 403,
  RUNTIME: 400,
  INTERNAL: 500,
};

const IMAGE_STATUS: Record<ImageError["code"], number> = {
  INVALID_REFERENCE: 400,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  DENIED: 403,
  DIGEST_MISMATCH: 500,
  SIZE_MISMATCH: 500,
  UNREACHABLE: 500,
  REGISTRY_ERROR: 500,
  UNSUPPORTED: 400,
  CONFLICT: 409,
  INVALID_ARCHIVE: 400,
};

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof EngineError) return new ApiError(ENGINE_STATUS[e.code], e.message);
  if (e instanceof ImageError) {
    // Docker's wording, which `docker run` reads to decide to pull.
    if (e.code === "NOT_FOUND" && /^no such image: /.test(e.message)) return new ApiError(404, e.message.replace(/^no such image/, "No such image"));
    return new ApiError(IMAGE_STATUS[e.code], e.message);
  }
  if (isInputError(e) || e instanceof SpecError || e instanceof UserResolveError) return new ApiError(400, e.message);
  if (e instanceof NetworkError || e instanceof VolumeError) return new ApiError(e.code === "NOT_FOUND" ? 404 : e.code === "CONFLICT" ? 409 : 400, e.message);
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError(500, message);
}
