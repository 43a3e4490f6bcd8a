import "server-only";

// How long a registry is left alone after it failed or asked us to wait.
// A 429's Retry-After is obeyed (capped, so a bogus value can't silence a
// registry for weeks); other errors back off exponentially from the base,
// doubling on each consecutive failure, up to the cap. The previous delay is
// read back from TagDigest (retryAfter − checkedAt), so the backoff survives
// restarts and is shared by every gateway.

export const BACKOFF_BASE_SECONDS = 30;
export const BACKOFF_CAP_SECONDS = 6 * 60 * 60;
export const RETRY_AFTER_CAP_SECONDS = 24 * 60 * 60;

export interface BackoffInput {
  /** The registry's Retry-After in seconds (a 429), or null. */
  retryAfterSeconds: number | null;
  /** The delay applied after the previous failure in a row, in seconds; null/0 when the last check succeeded. */
  previousDelaySeconds: number | null;
  base?: number;
  cap?: number;
}

/** Seconds to wait before asking the registry again. */
export function backoffSeconds(o: BackoffInput): number {
  const base = o.base ?? BACKOFF_BASE_SECONDS;
  const cap = o.cap ?? BACKOFF_CAP_SECONDS;
  const exponential = Math.min(cap, o.previousDelaySeconds && o.previousDelaySeconds > 0 ? Math.max(base, o.previousDelaySeconds * 2) : base);
  if (o.retryAfterSeconds !== null && o.retryAfterSeconds > 0) return Math.min(RETRY_AFTER_CAP_SECONDS, Math.max(o.retryAfterSeconds, 1));
  return exponential;
}

/** The delay a stored row implies (its retryAfter − checkedAt), when its last check failed. */
export function previousDelay(row: { checkedAt: Date; retryAfter: Date | null; error: string | null } | null): number | null {
  if (!row || !row.error || !row.retryAfter) return null;
  return Math.max(0, Math.round((row.retryAfter.getTime() - row.checkedAt.getTime()) / 1000));
}
