"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import type { RolloutStatusName } from "@/lib/rollouts/views";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading, Note } from "@/components/ui/feedback";
import { formatDate } from "@/components/ui/format";
import { Pagination } from "@/components/ui/pagination";
import { actorLabel, formatDuration, isActive, targetHref, TRIGGER_LABEL } from "./format";
import { DigestChange, RolloutStatusBadge } from "./parts";

// Rollouts across the fleet: running (and queued), waiting for approval,
// failed, all; each links to its deployment or stack.

type Tab = "running" | "awaiting" | "failed" | "all";
const TABS: { id: Tab; label: string; statuses?: RolloutStatusName[] }[] = [
  { id: "running", label: "Running", statuses: ["running", "queued"] },
  { id: "awaiting", label: "Waiting for approval", statuses: ["awaitingApproval"] },
  { id: "failed", label: "Failed", statuses: ["failed"] },
  { id: "all", label: "All" },
];

const PAGE_SIZE = 50;
const ACTIVE_REFRESH_MS = 2_000;
const IDLE_REFRESH_MS = 10_000;

export function RolloutsPage({ initialTab }: { initialTab?: string }) {
  const trpc = useTRPC();
  const [tab, setTab] = useState<Tab>(TABS.find((t) => t.id === initialTab)?.id ?? "running");
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => setCursors([undefined]), [tab]);
  const statuses = TABS.find((t) => t.id === tab)!.statuses;
  const counts = useQuery({ ...trpc.rollouts.counts.queryOptions(), refetchInterval: IDLE_REFRESH_MS, retry: false });
  const list = useQuery({
    ...trpc.rollouts.list.queryOptions({ ...(statuses ? { status: statuses } : {}), ...(cursor ? { cursor } : {}), limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((r) => isActive(r.status)) ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS),
  });
  const countOf = (t: Tab): number | null => {
    const c = counts.data;
    if (!c) return null;
    return t === "running" ? c.running + c.queued : t === "awaiting" ? c.awaitingApproval : t === "failed" ? c.failed : null;
  };
  const page = cursors.length;
  return (
    <div className="space-y-4">
      <div role="tablist" aria-label="Rollouts" className="flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
        {TABS.map((t) => {
          const n = countOf(t.id);
          return (
            <button
              key={t.id}
              type="button"
              role="tab"
              aria-selected={tab === t.id}
              onClick={() => setTab(t.id)}
              className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${tab === t.id ? "border-sky-600 text-sky-700 dark:text-sky-400" : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400"}`}
            >
              {t.label}
              {n ? (
                <span className="ml-1">
                  <Badge tone={t.id === "failed" ? "red" : t.id === "awaiting" ? "amber" : "sky"}>{n}</Badge>
                </span>
              ) : null}
            </button>
          );
        })}
      </div>
      {tab === "failed" ? <p className="text-xs text-slate-500">The count counts failures of the last 24 hours; the list shows every failed rollout.</p> : null}
      <Card>
        {list.error && !list.data ? <ErrorText>{errorMessage(list.error)}</ErrorText> : null}
        {!list.data && !list.error ? <Loading /> : null}
        {list.data ? (
          list.data.items.length === 0 ? (
            <Note>{tab === "running" ? "Nothing is rolling out now." : tab === "awaiting" ? "Nothing waits for approval." : tab === "failed" ? "No failed rollouts." : "No rollouts yet."}</Note>
          ) : (
            <DataTable testId="rollouts-table" columns={["Target", "Host", "Trigger", "Status", "Digest", "Asked", "Duration"]}>
              {list.data.items.map((r) => (
                <tr key={r.id} data-testid="rollout-row" data-status={r.status}>
                  <td className={`${cell} font-medium`}>
                    <Link href={targetHref(r.target)} className="text-sky-700 hover:underline dark:text-sky-400">
                      {r.target.name}
                    </Link>
                    <div className="text-xs font-normal text-slate-500">{r.target.kind === "stack" ? `stack${r.services.length ? `: ${r.services.join(", ")}` : ""}` : "deployment"}</div>
                  </td>
                  <td className={cell}>{r.hostName}</td>
                  <td className={`${cell} text-xs`}>
                    {TRIGGER_LABEL[r.trigger]}
                    <div className="text-slate-500">{actorLabel(r.actor)}</div>
                  </td>
                  <td className={cell}>
                    <RolloutStatusBadge status={r.status} />
                    {r.reason && r.status === "failed" ? <div className="mt-1 max-w-xs text-xs text-rose-700 [overflow-wrap:anywhere] dark:text-rose-400">{r.reason}</div> : null}
                  </td>
                  <td className={cell}>
                    <DigestChange rollout={r} />
                  </td>
                  <td className={`${cell} text-xs`}>{formatDate(r.createdAt)}</td>
                  <td className={`${cell} text-xs tabular-nums`}>{formatDuration(r.durationMs)}</td>
                </tr>
              ))}
            </DataTable>
          )
        ) : null}
        {list.data && (page > 1 || list.data.nextCursor) ? (
          <Pagination
            position={`Page ${page}`}
            previous={{ label: "Previous", disabled: page === 1, onClick: () => setCursors((c) => c.slice(0, -1)) }}
            next={{ label: "Next", disabled: !list.data.nextCursor, onClick: () => list.data?.nextCursor && setCursors((c) => [...c, list.data!.nextCursor!]) }}
          />
        ) : null}
      </Card>
    </div>
  );
}
