"use client";
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Card } from "@/components/ui/card";
import { FormError } from "@/components/ui/field";
import { formatBytes } from "@/components/ui/format";
import { HistoryChart } from "./history-chart";
import { toRows } from "./series";

// The last 24 hours of a host's or a container's CPU, memory and network, one
// point a minute, from stats.history (the gateway's collector writes them).
// Refreshed every minute while the page is open.

const HOURS = 24;
const rate = (v: number) => `${formatBytes(Math.round(v))}/s`;

export function StatsHistory({ hostId, containerId }: { hostId: string; containerId?: string }) {
  const trpc = useTRPC();
  const history = useQuery({
    ...trpc.stats.history.queryOptions({ hostId, ...(containerId ? { containerId } : {}), hours: HOURS }),
    refetchInterval: 60_000,
    retry: false,
  });
  const rows = toRows(history.data?.points ?? []);
  const to = Date.now();
  const from = to - HOURS * 3_600_000;
  const times = rows.map((r) => r.t);
  const limit = rows.findLast((r) => r.limit !== null)?.limit ?? null;

  return (
    <Card title={`Last ${HOURS} hours`} className="mt-6">
      <div data-testid="stats-history" data-points={rows.length} className="space-y-4">
        {history.error ? <FormError message={errorMessage(history.error)} /> : null}
        {history.isPending ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : rows.length === 0 && !history.error ? (
          <p className="text-sm text-slate-500" data-testid="stats-history-empty">
            Collecting — the first point appears within a minute.
          </p>
        ) : rows.length > 0 ? (
          <div className="grid gap-6 lg:grid-cols-3">
            <HistoryChart
              title={containerId ? "CPU (100 % = one CPU)" : "CPU (% of all CPUs)"}
              times={times}
              from={from}
              to={to}
              series={[{ name: "CPU", color: "#0284c7", values: rows.map((r) => r.cpu) }]}
              format={(v) => `${v.toFixed(v < 10 ? 1 : 0)} %`}
              minTop={containerId ? 100 : undefined}
              fixedTop={containerId ? undefined : 100}
            />
            <HistoryChart
              title={limit ? `Memory (of ${formatBytes(limit)})` : "Memory"}
              times={times}
              from={from}
              to={to}
              series={[{ name: "Memory", color: "#7c3aed", values: rows.map((r) => r.memory) }]}
              format={(v) => formatBytes(Math.round(v))}
              fixedTop={limit ?? undefined}
            />
            <HistoryChart
              title="Network"
              times={times}
              from={from}
              to={to}
              series={[
                { name: "Received", color: "#059669", values: rows.map((r) => r.rx) },
                { name: "Sent", color: "#d97706", values: rows.map((r) => r.tx) },
              ]}
              format={rate}
              minTop={1024}
            />
          </div>
        ) : null}
      </div>
    </Card>
  );
}
