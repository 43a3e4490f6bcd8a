// A tiny inline-SVG sparkline: no client code, no chart library. Usable from
// server and client components alike (e.g. a host's load and memory).

export interface SparklineProps {
  values: number[];
  /** Names the series for screen readers and the tooltip, e.g. "Load". */
  label: string;
  /** How the latest value is said, e.g. (v) => `${Math.round(v * 100)}%`. */
  format?: (value: number) => string;
  /** Fixed bounds (memory as 0–1); by default 0 to the largest value (at least `minCeiling`). */
  min?: number;
  max?: number;
  minCeiling?: number;
  width?: number;
  height?: number;
  tone?: "sky" | "violet" | "amber";
}

const STROKE = { sky: "stroke-sky-600 dark:stroke-sky-400", violet: "stroke-violet-600 dark:stroke-violet-400", amber: "stroke-amber-600 dark:stroke-amber-400" };
const FILL = { sky: "fill-sky-500/15", violet: "fill-violet-500/15", amber: "fill-amber-500/15" };
const DOT = { sky: "fill-sky-600 dark:fill-sky-400", violet: "fill-violet-600 dark:fill-violet-400", amber: "fill-amber-600 dark:fill-amber-400" };

/** The points of the line, scaled into the box (y grows downwards), 1px inset so the stroke isn't clipped. */
export function sparklinePoints(values: number[], width: number, height: number, min: number, max: number): [number, number][] {
  const span = max - min || 1;
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  return values.map((v, i) => {
    const clamped = Math.min(max, Math.max(min, v));
    return [1 + i * step, 1 + (height - 2) * (1 - (clamped - min) / span)];
  });
}

export function Sparkline({ values, label, format = (v) => v.toFixed(2), min = 0, max, minCeiling = 0, width = 96, height = 24, tone = "sky" }: SparklineProps) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) {
    return (
      <span className="inline-block text-xs text-slate-400" style={{ width }} aria-label={`${label}: no samples yet`}>
        —
      </span>
    );
  }
  const top = max ?? Math.max(minCeiling, ...finite);
  const latest = finite[finite.length - 1]!;
  const points = sparklinePoints(finite.length === 1 ? [latest, latest] : finite, width, height, min, top);
  const line = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const area = `1,${height - 1} ${line} ${points[points.length - 1]![0].toFixed(1)},${height - 1}`;
  const [lx, ly] = points[points.length - 1]!;
  const summary = `${label}: now ${format(latest)}, range ${format(Math.min(...finite))}–${format(Math.max(...finite))} over ${finite.length} sample${finite.length === 1 ? "" : "s"}`;
  return (
    <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} className="inline-block overflow-visible align-middle" data-testid="sparkline">
      <title>{summary}</title>
      <polygon points={area} className={FILL[tone]} />
      <polyline points={line} fill="none" strokeWidth={1.5} strokeLinejoin="round" strokeLinecap="round" className={STROKE[tone]} />
      <circle cx={lx} cy={ly} r={2} className={DOT[tone]} />
    </svg>
  );
}
