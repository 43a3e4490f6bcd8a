import "server-only";
import { authGeneration } from "../auth/generation";

// A very short memory of lookups token-authenticated entry points make on
// every request (the token's authentication, the host a path names), so
// back-to-back calls don't each pay several database round trips. An entry is used only
// while it is younger than `ttlMs` (1 s), the token it holds has not expired,
// and no change that can alter access has happened since it was read: every
// such change (token revoked, user disabled, role or binding changed, host
// moved or removed) bumps the auth generation (server/auth/generation.ts):
// in this process at once, and from any other process or plain SQL through
// the database's AccessGeneration row, which the token pipeline reads (one
// primary-key read) before every lookup it could answer from here. So a change takes
// effect on the very next request.

export interface CacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
  generation?: () => number;
}

interface Entry<V> {
  value: V;
  generation: number;
  at: number;
  /** Epoch ms after which the value must not be used (a token's expiry), or null. */
  until: number | null;
}

export class ShortCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  readonly generation: () => number;

  constructor(o: CacheOptions = {}) {
    this.ttlMs = o.ttlMs ?? 1_000;
    this.maxEntries = o.maxEntries ?? 1_000;
    this.now = o.now ?? Date.now;
    this.generation = o.generation ?? authGeneration;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const now = this.now();
    if (e.generation !== this.generation() || now - e.at >= this.ttlMs || (e.until !== null && now >= e.until)) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** `generation` must be read BEFORE the lookup whose result is stored, so a change during the lookup invalidates it. */
  set(key: string, value: V, generation: number, until: number | null = null): void {
    if (generation !== this.generation()) return;
    if (this.entries.size >= this.maxEntries) {
      const now = this.now();
      for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
      // Still full: drop the oldest.
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(k);
      }
    }
    this.entries.delete(key);
    this.entries.set(key, { value, generation, at: this.now(), until });
  }
}
