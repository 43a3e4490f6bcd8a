"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";

// The navigation's count of firing alerts the viewer can see, read again every
// 30 s; red while any of them is critical. Nothing is shown when none fire or
// the count can't be read (the Alerts page says why).

export const BADGE_REFRESH_MS = 30_000;

export function AlertsBadge() {
  const trpc = useTRPC();
  const count = useQuery({ ...trpc.alerts.count.queryOptions(), refetchInterval: BADGE_REFRESH_MS, retry: false, staleTime: 10_000 });
  const firing = count.data?.firing ?? 0;
  if (firing === 0) return null;
  const critical = count.data?.critical ?? 0;
  const label = `${firing} firing${critical ? `, ${critical} critical` : ""}`;
  return (
    <span
      data-testid="alerts-badge"
      data-critical={critical > 0 ? "true" : "false"}
      title={label}
      className={`min-w-5 rounded-full px-1.5 py-0.5 text-center text-xs font-semibold tabular-nums ${
        critical > 0 ? "bg-rose-600 text-white" : "bg-amber-400 text-amber-950"
      }`}
    >
      {firing}
      <span className="sr-only"> firing{critical ? `, ${critical} critical` : ""}</span>
    </span>
  );
}
