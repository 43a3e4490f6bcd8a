"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { formatBytes } from "@/components/ui/format";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Card } from "@/components/ui/card";
import { FormError } from "@/components/ui/field";
import type { AppRouter } from "@/server/routers/_app";

// Live CPU, memory, network and block I/O: one sample every 2 s from the
// server while this tab is open. Byte counters are cumulative, so rates are
// the difference between samples over the time between them.

type Sample = inferRouterOutputs<AppRouter>["containers"]["stats"] extends AsyncIterable<infer T> ? T : never;

/** Samples kept: 2 minutes at one every 2 s. */
const WINDOW = 60;

interface Point {
  t: number;
  cpu: number;
  memory: number;
  limit: number;
  rx: number;
  tx: number;
  read: number;
  write: number;
  pids: number;
}

function toPoints(samples: Sample[]): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const prev = samples[i - 1];
    const t = Date.parse(s.at);
    const dt = prev ? (t - Date.parse(prev.at)) / 1000 : 0;
    // A counter that went backwards (the container restarted) or no time between samples: no rate.
    const rate = (now: number, before: number | undefined) => (prev && dt > 0 && before !== undefined && now >= before ? (now - before) / dt : 0);
    out.push({
      t,
      cpu: s.cpuPercent,
      memory: s.memoryBytes,
      limit: s.memoryLimitBytes,
      rx: rate(s.netRxBytes, prev?.netRxBytes),
      tx: rate(s.netTxBytes, prev?.netTxBytes),
      read: rate(s.blockReadBytes, prev?.blockReadBytes),
      write: rate(s.blockWriteBytes, prev?.blockWriteBytes),
      pids: s.pids,
    });
  }
  return out;
}

const rate = (bytesPerSecond: number) => `${formatBytes(Math.round(bytesPerSecond))}/s`;

export function ContainerStats({ hostId, containerId }: { hostId: string; containerId: string }) {
  const trpc = useTRPC();
  const [samples, setSamples] = useState<Sample[]>([]);
  const stats = useSubscription(
    trpc.containers.stats.subscriptionOptions(
      { hostId, containerId },
      { onData: (s) => setSamples((prev) => [...prev, s].slice(-(WINDOW + 1))) },
    ),
  );
  // The first sample only anchors the rates.
  const points = toPoints(samples).slice(1);
  const last = points[points.length - 1];
  const limited = last && last.limit > 0 && last.limit < 2 ** 50;

  return (
    <div className="space-y-4" data-testid="container-stats" data-points={points.length}>
      <p className="text-xs text-slate-500" role="status">
        {stats.status === "error"
          ? "Stopped."
          : points.length === 0
            ? "Waiting for the first samples (one every 2 s)…"
            : "Live: one sample every 2 s, the last 2 minutes shown."}
      </p>
      {stats.error ? <FormError message={errorMessage(stats.error)} /> : null}
      <div className="grid gap-4 lg:grid-cols-2">
        <Chart
          title="CPU"
          value={last ? `${last.cpu.toFixed(1)} %` : "—"}
          note="100 % is one whole CPU."
          series={[{ name: "CPU %", color: "#0284c7", values: points.map((p) => p.cpu) }]}
          format={(v) => `${v.toFixed(0)} %`}
          min={100}
        />
        <Chart
          title="Memory"
          value={last ? `${formatBytes(last.memory)}${limited ? ` of ${formatBytes(last.limit)}` : ""}` : "—"}
          note={limited ? "The limit is the chart's top." : "No memory limit."}
          series={[{ name: "Memory", color: "#7c3aed", values: points.map((p) => p.memory) }]}
          format={(v) => formatBytes(v)}
          max={limited ? last.limit : undefined}
        />
        <Chart
          title="Network"
          value={last ? `↓ ${rate(last.rx)} · ↑ ${rate(last.tx)}` : "—"}
          series={[
            { name: "Received", color: "#059669", values: points.map((p) => p.rx) },
            { name: "Sent", color: "#d97706", values: points.map((p) => p.tx) },
          ]}
          format={rate}
          min={1024}
        />
        <Chart
          title="Block I/O"
          value={last ? `read ${rate(last.read)} · write ${rate(last.write)}` : "—"}
          series={[
            { name: "Read", color: "#2563eb", values: points.map((p) => p.read) },
            { name: "Write", color: "#e11d48", values: points.map((p) => p.write) },
          ]}
          format={rate}
          min={1024}
        />
      </div>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Processes: <span className="font-medium" data-testid="stats-pids">{last ? last.pids : "—"}</span>
      </p>
    </div>
  );
}

interface Series {
  name: string;
  color: string;
  values: number[];
}

/** A small line chart in inline SVG: the window's values, scaled to the larger of their maximum and `min` (or a fixed `max`). */
function Chart({ title, value, note, series, format, min = 0, max }: { title: string; value: string; note?: string; series: Series[]; format: (v: number) => string; min?: number; max?: number }) {
  const W = 300;
  const H = 100;
  // Headroom above the highest value, so a flat line isn't drawn on the frame.
  const top = max ?? Math.max(min, Math.max(0, ...series.flatMap((s) => s.values)) * 1.1);
  const y = (v: number) => H - (top > 0 ? Math.min(1, v / top) : 0) * H;
  const x = (i: number) => (i / (WINDOW - 1)) * W;
  return (
    <Card title={title} actions={<span className="font-mono text-sm" data-testid={`stat-${title.toLowerCase().replace(/\W+/g, "-")}`}>{value}</span>}>
      <figure className="space-y-1">
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="h-28 w-full overflow-visible rounded bg-slate-50 dark:bg-slate-950" role="img" aria-label={`${title}: ${value}`}>
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} x1={0} x2={W} y1={H * f} y2={H * f} stroke="currentColor" className="text-slate-200 dark:text-slate-800" strokeWidth={0.5} vectorEffect="non-scaling-stroke" />
          ))}
          {series.map((s) =>
            s.values.length === 1 ? (
              <circle key={s.name} cx={x(WINDOW - 1)} cy={y(s.values[0]!)} r={2} fill={s.color} />
            ) : s.values.length > 1 ? (
              <polyline
                key={s.name}
                fill="none"
                stroke={s.color}
                strokeWidth={1.5}
                vectorEffect="non-scaling-stroke"
                points={s.values.map((v, i) => `${x(i + WINDOW - s.values.length)},${y(v)}`).join(" ")}
              />
            ) : null,
          )}
        </svg>
        <figcaption className="flex flex-wrap justify-between gap-2 text-xs text-slate-500">
          <span className="flex gap-3">
            {series.length > 1
              ? series.map((s) => (
                  <span key={s.name} className="inline-flex items-center gap-1">
                    <span className="inline-block h-2 w-2 rounded-full" style={{ background: s.color }} />
                    {s.name}
                  </span>
                ))
              : note}
          </span>
          <span>top: {format(top)}</span>
        </figcaption>
      </figure>
    </Card>
  );
}
