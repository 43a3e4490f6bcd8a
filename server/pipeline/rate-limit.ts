import "server-only";
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
  /**
   * Refusals counted after a report and not reported by a later one (the
   * client stopped) are handed here once reportEveryMs has passed since the
   * last report, from an unref'd timer (at most one per key), so no denial
   * goes unrecorded. `note` is what the last of them was taken with.
   */
  onPendingReport?: (key: string, report: { refused: number }, note: unknown) => void;
}

interface Bucket {
  tokens: number;
  at: number;
  refusedSinceReport: number;
  reportedAt: number;
  /** The note of the last refusal counted since the report. */
  note?: unknown;
  flushTimer?: ReturnType<typeof setTimeout>;
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
      if (full && b.refusedSinceReport === 0) this.drop(key, b);
    }
    // Still full of busy keys: drop the oldest (Map keeps insertion order). Their owners get a fresh burst.
    for (const [key, b] of this.buckets) {
      if (this.buckets.size < this.maxKeys) break;
      this.drop(key, b);
    }
  }

  /** Forgets a bucket, reporting what it still counted. */
  private drop(key: string, b: Bucket) {
    this.flush(key, b, this.now());
    this.buckets.delete(key);
  }

  /** Reports the refusals counted since the last report, if any. */
  private flush(key: string, b: Bucket, now: number) {
    if (b.flushTimer) clearTimeout(b.flushTimer);
    b.flushTimer = undefined;
    if (b.refusedSinceReport === 0 || !this.o.onPendingReport) return;
    const report = { refused: b.refusedSinceReport };
    const note = b.note;
    b.refusedSinceReport = 0;
    b.reportedAt = now;
    b.note = undefined;
    try {
      this.o.onPendingReport(key, report, note);
    } catch (e) {
      console.error("[berth] rate limit: reporting refusals failed:", e instanceof Error ? e.message : e);
    }
  }

  /** Refusals counted but not yet reported, for every key (tests, shutdown). */
  flushPending() {
    const now = this.now();
    for (const [key, b] of this.buckets) this.flush(key, b, now);
  }

  /**
   * Spends one request from the key's bucket, or refuses it. `note` is kept
   * with a refusal that isn't reported at once, for onPendingReport.
   */
  take(key: string, note?: unknown): RateDecision {
    const now = this.now();
    const b = this.bucket(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      // The client is back within the limit: what it was refused before is reported now.
      if (b.refusedSinceReport > 0 && now - b.reportedAt >= this.reportEveryMs) this.flush(key, b, now);
      return { ok: true };
    }
    return this.refuse(key, b, now, note);
  }

  private refuse(key: string, b: Bucket, now: number, note: unknown): RateDecision & { ok: false } {
    b.refusedSinceReport += 1;
    let report: { refused: number } | null = null;
    if (now - b.reportedAt >= this.reportEveryMs) {
      report = { refused: b.refusedSinceReport };
      b.refusedSinceReport = 0;
      b.reportedAt = now;
      b.note = undefined;
      if (b.flushTimer) clearTimeout(b.flushTimer);
      b.flushTimer = undefined;
    } else if (this.o.onPendingReport) {
      b.note = note;
      if (!b.flushTimer) {
        const timer = setTimeout(() => {
          b.flushTimer = undefined;
          if (this.buckets.get(key) === b) this.flush(key, b, this.now());
        }, Math.max(0, b.reportedAt + this.reportEveryMs - now));
        timer.unref?.();
        b.flushTimer = timer;
      }
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / this.o.perSecond));
    return { ok: false, retryAfterSeconds, report };
  }
}
