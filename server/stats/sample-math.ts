import "server-only";

// The stats collector's arithmetic, pure: minute alignment, CPU percentages
// from cumulative counters, and the pruning cut-off.

export const MINUTE_MS = 60_000;
/** How long samples are kept. */
export const RETENTION_HOURS = 24;

/** The start of the minute `at` falls in (UTC): the `at` of the sample's row. */
export function minuteOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS);
}

/** Rows older than this go (strictly before: a row at the cut-off itself stays). */
export function pruneCutoff(now: Date, hours = RETENTION_HOURS): Date {
  return new Date(now.getTime() - hours * 3_600_000);
}

export interface CpuCounter {
  /** Cumulative CPU nanoseconds. */
  cpuNanos: number;
  /** Wall-clock time of the reading, ms. */
  atMs: number;
}

/**
 * A container's CPU use between two readings, as `docker stats` shows it:
 * 100 = one CPU busy the whole time. 0 without a usable earlier reading (the
 * first one, a counter that went back — the container restarted — or no time
 * between them).
 */
export function containerCpuPercent(prev: CpuCounter | undefined, cur: CpuCounter): number {
  if (!prev) return 0;
  const wallNanos = (cur.atMs - prev.atMs) * 1e6;
  const used = cur.cpuNanos - prev.cpuNanos;
  if (wallNanos <= 0 || used < 0) return 0;
  return (used / wallNanos) * 100;
}

/** That percentage as a share of the container's CPU limit (in CPUs), else of all the host's CPUs: 0–100. */
export function cpuPercentOfLimit(cpuPercent: number, cpuLimit: number | null, hostCpus: number): number {
  const cpus = cpuLimit && cpuLimit > 0 ? cpuLimit : Math.max(1, hostCpus);
  return clampPercent(cpuPercent / cpus);
}

export interface HostCpuCounter {
  totalNanos: number;
  idleNanos: number;
}

/** The host's busy share of all its CPUs between two /proc/stat readings: 0–100 (0 on the first). */
export function hostCpuPercent(prev: HostCpuCounter | undefined, cur: HostCpuCounter): number {
  if (!prev) return 0;
  const total = cur.totalNanos - prev.totalNanos;
  const idle = cur.idleNanos - prev.idleNanos;
  if (total <= 0 || idle < 0) return 0;
  return clampPercent(((total - idle) / total) * 100);
}

export function usedPercent(used: number, size: number): number {
  return size > 0 ? clampPercent((used / size) * 100) : 0;
}

function clampPercent(n: number): number {
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : 0;
}
