"use client";
import { useState } from "react";

// A line chart of one window (e.g. 24 h) in inline SVG: labelled axes (the
// top value and the window's start, middle and end), and the values under the
// pointer on hover. Missing values (null) break the line.

export interface ChartSeries {
  name: string;
  color: string;
  values: (number | null)[];
}

const W = 640;
const H = 160;
const LEFT = 64;
const BOTTOM = 20;
const TOP = 8;

const time = (t: number) => new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

export function HistoryChart({
  title,
  times,
  from,
  to,
  series,
  format,
  minTop = 0,
  fixedTop,
}: {
  title: string;
  /** Each point's time (ms), ascending. */
  times: number[];
  from: number;
  to: number;
  series: ChartSeries[];
  format: (v: number) => string;
  /** The y axis reaches at least this high. */
  minTop?: number;
  fixedTop?: number;
}) {
  const [hover, setHover] = useState<number | null>(null);
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const top = fixedTop ?? (Math.max(minTop, Math.max(0, ...values) * 1.1) || 1);
  const plotW = W - LEFT;
  const plotH = H - BOTTOM - TOP;
  const x = (t: number) => LEFT + ((t - from) / Math.max(1, to - from)) * plotW;
  const y = (v: number) => TOP + plotH - Math.min(1, Math.max(0, v / top)) * plotH;

  const paths = series.map((s) => {
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(times[i]!).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return { ...s, d };
  });

  const onMove = (e: React.MouseEvent<SVGSVGElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    const t = from + ((((e.clientX - box.left) / box.width) * W - LEFT) / plotW) * (to - from);
    let best: number | null = null;
    times.forEach((ti, i) => {
      if (best === null || Math.abs(ti - t) < Math.abs(times[best]! - t)) best = i;
    });
    setHover(best);
  };

  const h = hover !== null && times[hover] !== undefined ? hover : null;
  return (
    <figure className="space-y-1" data-testid="history-chart" data-title={title}>
      <figcaption className="flex flex-wrap items-baseline justify-between gap-2 text-sm">
        <span className="font-medium">{title}</span>
        <span className="text-xs text-slate-500" data-testid="history-hover">
          {h !== null
            ? `${time(times[h]!)} · ${series.map((s) => `${s.name} ${s.values[h] === null || s.values[h] === undefined ? "—" : format(s.values[h])}`).join(" · ")}`
            : series.map((s) => (
                <span key={s.name} className="ml-2">
                  <span className="inline-block h-2 w-2 rounded-full align-middle" style={{ background: s.color }} /> {s.name}
                </span>
              ))}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="w-full"
        role="img"
        aria-label={`${title}, ${time(from)} to ${time(to)}`}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
      >
        <g className="fill-slate-500 text-[10px]" fontSize={10}>
          <text x={LEFT - 6} y={TOP + 8} textAnchor="end">
            {format(top)}
          </text>
          <text x={LEFT - 6} y={TOP + plotH} textAnchor="end">
            {format(0)}
          </text>
          <text x={LEFT} y={H - 4} textAnchor="start">
            {time(from)}
          </text>
          <text x={LEFT + plotW / 2} y={H - 4} textAnchor="middle">
            {time((from + to) / 2)}
          </text>
          <text x={W} y={H - 4} textAnchor="end">
            {time(to)}
          </text>
        </g>
        <line x1={LEFT} x2={W} y1={TOP + plotH} y2={TOP + plotH} className="stroke-slate-300 dark:stroke-slate-700" />
        <line x1={LEFT} x2={W} y1={TOP} y2={TOP} className="stroke-slate-200 dark:stroke-slate-800" strokeDasharray="3 3" />
        {paths.map((p) => (
          <path key={p.name} d={p.d} fill="none" stroke={p.color} strokeWidth={1.5} />
        ))}
        {h !== null ? (
          <g>
            <line x1={x(times[h]!)} x2={x(times[h]!)} y1={TOP} y2={TOP + plotH} className="stroke-slate-400" strokeDasharray="2 2" />
            {series.map((s) => {
              const v = s.values[h];
              return v === null || v === undefined ? null : <circle key={s.name} cx={x(times[h]!)} cy={y(v)} r={3} fill={s.color} />;
            })}
          </g>
        ) : null}
      </svg>
    </figure>
  );
}
