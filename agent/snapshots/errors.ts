import { AgentError } from "../errors";

// Errors of layer extraction. Both mean "this layer can't be unpacked"; the
// split tells the operator whether the image is hostile/unsupported
// (UnsafeLayerError) or just damaged in transit or storage (CorruptLayerError).

/** A layer entry was refused: it would write outside the root, or isn't something we extract. */
export class UnsafeLayerError extends AgentError<"UNSAFE_LAYER"> {
  override name = "UnsafeLayerError";
  readonly entry: string | null;
  /** Why, without the entry's name (for callers that word the refusal their own way). */
  readonly reason: string;
  constructor(entry: string | null, reason: string, options?: { cause?: unknown }) {
    super("UNSAFE_LAYER", entry === null ? `unsafe layer: ${reason}` : `unsafe layer entry "${entry}": ${reason}`, options);
    this.entry = entry;
    this.reason = reason;
  }
}

/** The layer stream is truncated or not a valid (compressed) tar. */
export class CorruptLayerError extends AgentError<"CORRUPT_LAYER"> {
  override name = "CorruptLayerError";
  readonly entry: string | null;
  constructor(entry: string | null, reason: string, options?: { cause?: unknown }) {
    super("CORRUPT_LAYER", entry === null ? `corrupt layer: ${reason}` : `corrupt layer at entry "${entry}": ${reason}`, options);
    this.entry = entry;
  }
}

/** An entry would replace a directory with a non-directory or the reverse, and the caller said not to (docker cp's noOverwriteDirNonDir). */
export class ReplaceRefusedError extends AgentError<"INVALID"> {
  override name = "ReplaceRefusedError";
  constructor(message: string) {
    super("INVALID", message);
  }
}
