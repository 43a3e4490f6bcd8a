// The history charts' data, pure: points (cumulative byte counters) into
// per-second rates, and the time axis over the window. No React.

export interface HistoryPoint {
  at: Date | string;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
}

export interface ChartRow {
  t: number;
  cpu: number;
  memory: number;
  limit: number | null;
  /** Bytes per second since the point before; null for the first point and after a counter reset or a gap. */
  rx: number | null;
  tx: number | null;
}

/** A gap longer than this between two points (the host was away) draws no rate across it. */
const MAX_GAP_MS = 5 * 60_000;

export function toRows(points: readonly HistoryPoint[]): ChartRow[] {
  return points.map((p, i) => {
    const t = new Date(p.at).getTime();
    const prev = points[i - 1];
    const dt = prev ? (t - new Date(prev.at).getTime()) / 1000 : 0;
    const usable = prev !== undefined && dt > 0 && dt * 1000 <= MAX_GAP_MS;
    const rate = (now: number, before: number | undefined) => (usable && before !== undefined && now >= before ? (now - before) / dt : null);
    return { t, cpu: p.cpuPercent, memory: p.memoryBytes, limit: p.memoryLimitBytes, rx: rate(p.netRxBytes, prev?.netRxBytes), tx: rate(p.netTxBytes, prev?.netTxBytes) };
  });
}
