import "server-only";
// Which user created an exec through the proxy, on which host. Exec ids are
// the host's (random, 64 hex), but anyone with containers.exec who learns one
// could otherwise start, resize or read someone else's exec: a start, resize
// or inspect through the proxy is allowed only for an exec this map holds for
// that same user and host. Bounded, with expiry (refreshed on each use).

export interface ExecOwner {
  userId: string;
  hostId: string;
}

export interface ExecOwnersOptions {
  /** How long an exec stays known after it was created or last used. */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class ExecOwners {
  private readonly entries = new Map<string, ExecOwner & { at: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: ExecOwnersOptions = {}) {
    this.ttlMs = o.ttlMs ?? 12 * 60 * 60_000;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  record(execId: string, owner: ExecOwner): void {
    const now = this.now();
    this.entries.delete(execId);
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
      // Still full: the least recently used go.
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(k);
      }
    }
    this.entries.set(execId, { ...owner, at: now });
  }

  /** True when the exec was recorded for this user on this host and hasn't expired; refreshes it. */
  owns(execId: string, who: ExecOwner): boolean {
    const e = this.entries.get(execId);
    if (!e) return false;
    const now = this.now();
    if (now - e.at >= this.ttlMs) {
      this.entries.delete(execId);
      return false;
    }
    if (e.userId !== who.userId || e.hostId !== who.hostId) return false;
    this.entries.delete(execId);
    this.entries.set(execId, { ...e, at: now });
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}
