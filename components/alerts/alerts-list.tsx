"use client";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { hostChoice } from "@/components/hosts/host-status";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading, Note } from "@/components/ui/feedback";
import { Select } from "@/components/ui/field";
import { formatDate, plural } from "@/components/ui/format";
import { HostPicker } from "@/components/ui/host-picker";
import { Pagination } from "@/components/ui/pagination";
import { SEVERITIES } from "@/lib/alerts/kinds";
import { AlertStatusBadge, AlertSubject, SeverityBadge, type AlertView } from "./shared";

// The alert history: what fires now first, then what resolved, newest first;
// filtered by status, severity, host and rule; paged by cursor.

const PAGE_SIZE = 50;
/** Firing alerts change on their own: read them again this often. */
const FIRING_REFRESH_MS = 10_000;

type StatusFilter = "" | "firing" | "pending" | "resolved";

interface Filters {
  status: StatusFilter;
  severity: string;
  hostId: string;
  ruleId: string;
}

export function AlertsList({ canVerifyAudit, canManage }: { canVerifyAudit: boolean; canManage: boolean }) {
  const trpc = useTRPC();
  // Whether there is any alert at all: before the first, the page says where rules and channels are set.
  const any = useQuery({ ...trpc.alerts.list.queryOptions({ limit: 1 }), refetchInterval: FIRING_REFRESH_MS, retry: false });
  const [filters, setFilters] = useState<Filters>({ status: "", severity: "", hostId: "", ruleId: "" });
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const rules = useQuery({ ...trpc.alerts.rules.queryOptions(), retry: false });
  const set = (k: keyof Filters) => (v: string) => setFilters((f) => ({ ...f, [k]: v }));
  const filtered = Boolean(filters.status || filters.severity || filters.hostId || filters.ruleId);

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <form role="search" aria-label="Filter alerts" className="flex flex-wrap items-end gap-3" onSubmit={(e) => e.preventDefault()}>
          <FilterSelect label="Status" value={filters.status} onChange={set("status")}>
            <option value="">Firing, then resolved</option>
            <option value="firing">Firing</option>
            <option value="pending">Pending (waiting out “for”)</option>
            <option value="resolved">Resolved</option>
          </FilterSelect>
          <FilterSelect label="Severity" value={filters.severity} onChange={set("severity")}>
            <option value="">Any severity</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </FilterSelect>
          {hosts.data && hosts.data.length > 0 ? (
            <label className="space-y-1 text-sm">
              <span className="block text-xs font-medium text-slate-600 dark:text-slate-400">Host</span>
              <HostPicker aria-label="Host" className="w-auto py-1" hosts={hosts.data.map(hostChoice)} value={filters.hostId} onChange={set("hostId")} emptyLabel="All hosts" />
            </label>
          ) : null}
          {rules.data && rules.data.length > 0 ? (
            <FilterSelect label="Rule" value={filters.ruleId} onChange={set("ruleId")}>
              <option value="">All rules</option>
              {rules.data.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </FilterSelect>
          ) : null}
          {filtered ? (
            <Button variant="ghost" size="sm" onClick={() => setFilters({ status: "", severity: "", hostId: "", ruleId: "" })}>
              Clear filters
            </Button>
          ) : null}
        </form>
        {canVerifyAudit ? <VerifyAuditButton /> : null}
      </div>

      {any.data && any.data.items.length === 0 && !filtered ? (
        <NoAlertsYet canManage={canManage} />
      ) : filters.status === "" ? (
        <>
          <AlertsTable title="Firing now" statuses={["firing", "pending"]} filters={filters} refreshMs={FIRING_REFRESH_MS} testId="firing-alerts" emptyText="Nothing is firing." />
          <AlertsTable title="Resolved" statuses={["resolved"]} filters={filters} testId="resolved-alerts" emptyText="No resolved alerts." />
        </>
      ) : (
        <AlertsTable
          title={filters.status === "resolved" ? "Resolved" : filters.status === "pending" ? "Pending" : "Firing"}
          statuses={[filters.status]}
          filters={filters}
          refreshMs={filters.status === "resolved" ? undefined : FIRING_REFRESH_MS}
          testId={`${filters.status}-alerts`}
          emptyText="No alert matches these filters."
        />
      )}
    </div>
  );
}

function FilterSelect({ label, value, onChange, children }: { label: string; value: string; onChange: (v: string) => void; children: React.ReactNode }) {
  return (
    <label className="space-y-1 text-sm">
      <span className="block text-xs font-medium text-slate-600 dark:text-slate-400">{label}</span>
      <Select aria-label={label} className="w-auto py-1" value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </Select>
    </label>
  );
}

function AlertsTable({
  title,
  statuses,
  filters,
  refreshMs,
  testId,
  emptyText,
}: {
  title: string;
  statuses: ("pending" | "firing" | "resolved")[];
  filters: Filters;
  refreshMs?: number;
  testId: string;
  emptyText: string;
}) {
  const trpc = useTRPC();
  // Cursors of the pages before this one (the first page has none).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => setCursors([undefined]), [filters.hostId, filters.ruleId, filters.status]);
  const list = useQuery({
    ...trpc.alerts.list.queryOptions({
      status: statuses,
      ...(filters.hostId ? { hostId: filters.hostId } : {}),
      ...(filters.ruleId ? { ruleId: filters.ruleId } : {}),
      ...(cursor ? { cursor } : {}),
      limit: PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
    refetchInterval: refreshMs ?? false,
    retry: false,
  });
  // The list has no severity filter of its own: the page narrows what it read.
  const items = useMemo(() => (list.data?.items ?? []).filter((a) => !filters.severity || a.severity === filters.severity), [list.data, filters.severity]);
  const page = cursors.length;
  const nextCursor = list.data?.nextCursor ?? null;

  return (
    <Card title={list.data ? `${title} · ${plural(items.length, "alert")}${page > 1 ? ` on page ${page}` : ""}` : title}>
      {list.error && !list.data ? (
        <ErrorText>Could not list the alerts: {errorMessage(list.error)}</ErrorText>
      ) : !list.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <Note>{filters.severity && list.data.items.length > 0 ? `No ${filters.severity} alert on this page.` : emptyText}</Note>
      ) : (
        <AlertRows items={items} testId={testId} />
      )}
      {page > 1 || nextCursor ? (
        <Pagination
          position={`Page ${page}`}
          previous={{ label: "Previous", disabled: page === 1, onClick: () => setCursors((c) => c.slice(0, -1)) }}
          next={{ label: "Next", disabled: !nextCursor, onClick: () => nextCursor && setCursors((c) => [...c, nextCursor]) }}
        />
      ) : null}
    </Card>
  );
}

function AlertRows({ items, testId }: { items: AlertView[]; testId: string }) {
  return (
    <DataTable testId={testId} columns={["Status", "Severity", "Rule", "Subject", "Summary", "Times", "Silenced"]}>
      {items.map((a) => (
        <tr key={a.id} data-testid="alert-row" aria-label={`Alert ${a.ruleName}`}>
          <td className={cell}>
            <AlertStatusBadge status={a.status} />
          </td>
          <td className={cell}>
            <SeverityBadge severity={a.severity} />
          </td>
          <td className={`${cell} font-medium`}>
            <Link href={`/alerts/${encodeURIComponent(a.id)}`} className="text-sky-700 hover:underline dark:text-sky-400">
              {a.ruleName}
            </Link>
          </td>
          <td className={cell}>
            <AlertSubject alert={a} />
          </td>
          <td className={`${cell} max-w-xs text-xs [overflow-wrap:anywhere]`}>{a.summary}</td>
          <td className={`${cell} whitespace-nowrap text-xs text-slate-600 dark:text-slate-400`}>
            <div>{a.firedAt ? `fired ${formatDate(a.firedAt)}` : `since ${formatDate(a.startsAt)}`}</div>
            {a.resolvedAt ? <div>resolved {formatDate(a.resolvedAt)}</div> : null}
          </td>
          <td className={`${cell} text-xs`}>
            {a.silencedBy ? (
              <span data-testid="silenced-by" title={a.silencedBy.comment}>
                by {a.silencedBy.createdByLabel ?? "someone"} until {formatDate(a.silencedBy.endsAt)}
                <span className="block text-slate-500">“{a.silencedBy.comment}”</span>
              </span>
            ) : (
              <span className="text-slate-400">—</span>
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

/** Verifies the audit chain now (it also runs daily); a broken chain fires the "audit chain broken" rule. */
function VerifyAuditButton() {
  const trpc = useTRPC();
  const verify = useMutation(trpc.alerts.verifyAudit.mutationOptions());
  return (
    <div className="flex flex-col items-end gap-1">
      <Button variant="secondary" onClick={() => verify.mutate()} disabled={verify.isPending}>
        {verify.isPending ? "Verifying…" : "Verify audit chain now"}
      </Button>
      {verify.data ? (
        <p role="status" data-testid="verify-audit-result" className={`text-xs ${verify.data.ok ? "text-emerald-700 dark:text-emerald-400" : "text-rose-700 dark:text-rose-400"}`}>
          {verify.data.ok ? "✓ " : "✗ "}
          {verify.data.message} ({plural(verify.data.checked, "event")} checked)
        </p>
      ) : null}
      {verify.error ? <ErrorText small>{errorMessage(verify.error)}</ErrorText> : null}
    </div>
  );
}

/** The empty page before any alert: where rules and channels are set. */
function NoAlertsYet({ canManage }: { canManage: boolean }) {
  return (
    <EmptyState title="No alerts">
      No alerts — rules and channels are set under{" "}
      <Link className="text-sky-700 underline dark:text-sky-400" href="/alerts/rules">
        Rules
      </Link>{" "}
      and{" "}
      <Link className="text-sky-700 underline dark:text-sky-400" href="/alerts/channels">
        Channels
      </Link>
      {canManage ? "." : " (changing them needs the alerts.manage permission)."}
    </EmptyState>
  );
}
