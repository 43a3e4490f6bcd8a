// Token buckets in memory, one per key (an API token id, a client address).
// Each bucket holds up to `burst` requests and refills at `perSecond`.
// Refusals are counted so the audit log gets one record per burst of them,
// not one per refused request (a client hammering a full bucket must not
// turn into an audit-log write storm).

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Buckets kept at most; full (idle) buckets are dropped first. */
  maxKeys?: number;
  /** Refusals of one key are reported at most this often. */
  reportEveryMs?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  refusedSinceReport: number;
  reportedAt: number;
}

export type RateDecision =
  | { ok: true }
  | {
      ok: false;
      /** Whole seconds until a request would be accepted (at least 1), for Retry-After. */
      retryAfterSeconds: number;
      /** Set on the first refusal of a burst: how many refusals (this one included) the report covers. */
      report: { refused: number } | null;
    };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly reportEveryMs: number;
  private readonly now: () => number;

  constructor(private readonly o: RateLimitOptions) {
    this.maxKeys = o.maxKeys ?? 10_000;
    this.reportEveryMs = o.reportEveryMs ?? 1_000;
    this.now = o.now ?? Date.now;
  }

  private bucket(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      b = { tokens: this.o.burst, at: now, refusedSinceReport: 0, reportedAt: -Infinity };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.perSecond);
      b.at = now;
    }
    return b;
  }

  private prune(now: number) {
    for (const [key, b] of this.buckets) {
      const full = b.tokens + ((now - b.at) / 1000) * this.o.perSecond >= this.o.burst;
      if (full && b.refusedSinceReport === 0) this.buckets.delete(key);
    }
    // Still full of busy keys: drop the oldest (Map keeps insertion order). Their owners get a fresh burst.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }

  /** Spends one request from the key's bucket, or refuses it. */
  take(key: string): RateDecision {
    const now = this.now();
    const b = this.bucket(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return this.refuse(b, now);
  }

  private refuse(b: Bucket, now: number): RateDecision & { ok: false } {
    b.refusedSinceReport += 1;
    let report: { refused: number } | null = null;
    if (now - b.reportedAt >= this.reportEveryMs) {
      report = { refused: b.refusedSinceReport };
      b.refusedSinceReport = 0;
      b.reportedAt = now;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / this.o.perSecond));
    return { ok: false, retryAfterSeconds, report };
  }
}
