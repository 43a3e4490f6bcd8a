// The one error the pure shared modules throw: the input doesn't fit (a bad
// image reference, create request, mount or signal). Each side maps it once at
// its boundary: the agent to a Docker API 400, the gateway to BAD_REQUEST.

export class InputError extends Error {
  /** A mark rather than instanceof: the gateway's entry point and Next's server bundle each load their own copy of lib. */
  readonly inputError = true;
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** An InputError (or a subclass: CreateRequestError, …) from any copy of this module. */
export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && (e as { inputError?: unknown }).inputError === true;
}
