"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { ConfirmDialog } from "@/components/hosts/confirm-dialog";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Badge, Card, EmptyState } from "@/components/ui/card";
import { FormError, Input, Select } from "@/components/ui/field";
import type { AppRouter } from "@/server/routers/_app";
import { ACTION_LABEL, ACTION_PERMISSION, covers, formatDate, linkButton, portText, Reason, StateBadge, type ContainerAction, type Coverage } from "./shared";
import { useLiveContainers } from "./use-live-containers";

// Every container the viewer may read, across hosts: filtered, sorted and
// paged on the server (from live state), with bulk actions for those who may.

type Query = inferRouterInputs<AppRouter>["containers"]["all"];
type Row = inferRouterOutputs<AppRouter>["containers"]["all"]["items"][number];
type Sort = NonNullable<Query["sort"]>;
type BulkResult = inferRouterOutputs<AppRouter>["containers"]["bulk"];

const STATES = ["running", "exited", "created", "paused", "restarting", "dead"] as const;
const PAGE_SIZES = [25, 50, 100, 200];
const FILTER_DEBOUNCE_MS = 300;
const BULK_ACTIONS: ContainerAction[] = ["start", "stop", "restart", "remove"];

const keyOf = (r: { hostId: string; id: string }) => `${r.hostId}/${r.id}`;

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

export interface ContainersPermissions {
  control: Coverage;
  remove: Coverage;
  /** containers.deploy anywhere: the Deploy button. */
  canDeploy: boolean;
  /** hosts.read anywhere: host names and groups for the filter and the permission checks, and live updates. */
  canReadHosts: boolean;
}

export function ContainersView({ permissions }: { permissions: ContainersPermissions }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [hostId, setHostId] = useState("");
  const [state, setState] = useState("");
  const [name, setName] = useState("");
  const [image, setImage] = useState("");
  const [label, setLabel] = useState("");
  const [sort, setSort] = useState<Sort>("name");
  const [order, setOrder] = useState<"asc" | "desc">("asc");
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(PAGE_SIZES[0]!);
  const [selected, setSelected] = useState<Map<string, Row>>(new Map());
  const [pending, setPending] = useState<ContainerAction | null>(null);
  const [results, setResults] = useState<{ action: ContainerAction; failed: BulkResult } | null>(null);

  const text = useDebounced({ name: name.trim(), image: image.trim(), label: label.trim() }, FILTER_DEBOUNCE_MS);
  // Any filter change starts again at page 1.
  useEffect(() => setPage(1), [hostId, state, text.name, text.image, text.label, pageSize]);

  const input: Query = {
    ...(hostId ? { hostIds: [hostId] } : {}),
    ...(state ? { state: state as (typeof STATES)[number] } : {}),
    ...(text.name ? { name: text.name } : {}),
    ...(text.image ? { image: text.image } : {}),
    ...(text.label ? { label: text.label } : {}),
    sort,
    order,
    page,
    pageSize,
  };
  const list = useQuery({ ...trpc.containers.all.queryOptions(input), placeholderData: keepPreviousData });
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), enabled: permissions.canReadHosts, retry: false });
  const { live } = useLiveContainers({ enabled: permissions.canReadHosts });
  const hostById = useMemo(() => new Map((hosts.data ?? []).map((h) => [h.id, h])), [hosts.data]);

  const bulk = useMutation(trpc.containers.bulk.mutationOptions());

  const data = list.data;
  const filtered = Boolean(hostId || state || text.name || text.image || text.label);
  const staleHosts = (data?.hosts ?? []).filter((h) => h.stale);
  const pages = data ? Math.max(1, Math.ceil(data.total / data.pageSize)) : 1;

  const toggleSort = (key: Sort) => {
    if (sort === key) setOrder((o) => (o === "asc" ? "desc" : "asc"));
    else {
      setSort(key);
      setOrder(key === "created" ? "desc" : "asc");
    }
  };
  const toggle = (row: Row, on: boolean) =>
    setSelected((s) => {
      const next = new Map(s);
      if (on) next.set(keyOf(row), row);
      else next.delete(keyOf(row));
      return next;
    });
  const pageRows = data?.items ?? [];
  const allOnPage = pageRows.length > 0 && pageRows.every((r) => selected.has(keyOf(r)));

  /** Why the selection can't take this action, or null. */
  const bulkReason = (action: ContainerAction): string | null => {
    const coverage = action === "remove" ? permissions.remove : permissions.control;
    const denied = [...selected.values()].find((r) => !covers(coverage, { id: r.hostId, hostGroupId: hostById.get(r.hostId)?.hostGroupId }));
    return denied ? `Needs the ${ACTION_PERMISSION[action]} permission on ${denied.hostName} (${denied.name} is there).` : null;
  };

  const runBulk = async (action: ContainerAction) => {
    const items = [...selected.values()].map((r) => ({ hostId: r.hostId, containerId: r.id }));
    try {
      const out = await bulk.mutateAsync({ action, items });
      const failed = out.filter((r) => !r.ok);
      setPending(null);
      setResults(failed.length ? { action, failed } : null);
      setSelected(new Map());
      await qc.invalidateQueries(trpc.containers.pathFilter());
    } catch {
      // Shown in the dialog from bulk.error.
    }
  };

  if (list.error && !data) return <FormError message={errorMessage(list.error)} />;
  if (!data) return <p className="text-sm text-slate-500">Loading…</p>;

  if (!filtered && data.total === 0) {
    const noHosts = data.hosts.length === 0;
    return (
      <EmptyState
        title={noHosts ? "No hosts yet" : "No containers yet"}
        action={
          noHosts ? (
            <Link href="/hosts" className={linkButton}>
              Go to Hosts
            </Link>
          ) : permissions.canDeploy ? (
            <Link href="/deploy" className={linkButton}>
              Deploy a container
            </Link>
          ) : null
        }
      >
        {noHosts
          ? "Containers are listed here once a host is added and its agent runs. Add a host first, then deploy an image to it."
          : permissions.canDeploy
            ? "Nothing runs on your hosts yet. Deploy an image: pick a host, an image and its ports, and Berth pulls and starts it."
            : "Nothing runs on the hosts you can see. Deploying needs the containers.deploy permission; ask an Owner or Admin."}
      </EmptyState>
    );
  }

  const hostOptions = permissions.canReadHosts && hosts.data ? hosts.data.map((h) => ({ id: h.id, name: h.name })) : data.hosts.map((h) => ({ id: h.hostId, name: h.hostId }));
  const selection = [...selected.values()];

  return (
    <div className="space-y-4">
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-5" role="search" aria-label="Filter containers">
        <Select aria-label="Host" value={hostId} onChange={(e) => setHostId(e.target.value)}>
          <option value="">All hosts</option>
          {hostOptions.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name}
            </option>
          ))}
        </Select>
        <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">Any state</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        <Input aria-label="Name" placeholder="Name contains…" value={name} onChange={(e) => setName(e.target.value)} type="search" />
        <Input aria-label="Image" placeholder="Image contains…" value={image} onChange={(e) => setImage(e.target.value)} type="search" />
        <Input aria-label="Label" placeholder="Label: key or key=value" value={label} onChange={(e) => setLabel(e.target.value)} type="search" />
      </div>

      {staleHosts.length ? (
        <p role="status" className="rounded-md border border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200" data-testid="stale-hosts">
          {staleHosts.map((h) => hostById.get(h.hostId)?.name ?? h.hostId).join(", ")} {staleHosts.length === 1 ? "is" : "are"} not answering:{" "}
          {staleHosts.some((h) => h.known) ? "their containers are shown as last seen, marked stale." : "their containers can't be listed until they reconnect."}
        </p>
      ) : null}

      {selection.length ? (
        <div className="flex flex-wrap items-center gap-2 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 dark:border-sky-900 dark:bg-sky-950/40" data-testid="bulk-bar">
          <span className="text-sm font-medium">{selection.length} selected</span>
          {BULK_ACTIONS.map((action) => {
            const reason = bulkReason(action);
            return (
              <Button
                key={action}
                variant={action === "remove" ? "danger" : "secondary"}
                className="px-2 py-1 text-xs disabled:opacity-50"
                disabled={Boolean(reason)}
                title={reason ?? undefined}
                onClick={() => {
                  bulk.reset();
                  setPending(action);
                }}
              >
                {ACTION_LABEL[action]}
              </Button>
            );
          })}
          <Button variant="ghost" className="px-2 py-1 text-xs" onClick={() => setSelected(new Map())}>
            Clear
          </Button>
          <Reason>{BULK_ACTIONS.map(bulkReason).find(Boolean)}</Reason>
        </div>
      ) : null}

      {results ? (
        <div role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950 dark:text-rose-300">
          {ACTION_LABEL[results.action]} failed for {results.failed.length} container{results.failed.length === 1 ? "" : "s"}:
          <ul className="mt-1 list-disc pl-5">
            {results.failed.map((r) => (
              <li key={`${r.hostId}/${r.containerId}`}>
                {r.containerId.slice(0, 12)}: {r.error}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <Card
        title={
          <span className="flex items-center gap-2">
            {data.total} container{data.total === 1 ? "" : "s"}
            {filtered ? <span className="text-xs font-normal text-slate-500">matching the filters</span> : null}
            {permissions.canReadHosts ? (
              <span className="text-xs font-normal text-slate-500" data-testid="live-indicator">
                {live ? "● live" : "○ connecting…"}
              </span>
            ) : null}
            {list.isFetching ? <span className="text-xs font-normal text-slate-400">updating…</span> : null}
          </span>
        }
      >
        {data.total === 0 ? (
          <div className="py-8 text-center text-sm text-slate-600 dark:text-slate-400">
            No containers match these filters.{" "}
            <button
              type="button"
              className="text-sky-700 underline dark:text-sky-400"
              onClick={() => {
                setHostId("");
                setState("");
                setName("");
                setImage("");
                setLabel("");
              }}
            >
              Clear the filters
            </button>
          </div>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="containers-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="w-8 px-2 py-2">
                    <input
                      type="checkbox"
                      aria-label="Select every container on this page"
                      checked={allOnPage}
                      onChange={(e) => {
                        for (const r of pageRows) toggle(r, e.target.checked);
                      }}
                    />
                  </th>
                  <SortHeader label="Name" column="name" sort={sort} order={order} onSort={toggleSort} />
                  <SortHeader label="Host" column="host" sort={sort} order={order} onSort={toggleSort} />
                  <SortHeader label="Image" column="image" sort={sort} order={order} onSort={toggleSort} />
                  <SortHeader label="State" column="state" sort={sort} order={order} onSort={toggleSort} />
                  <th className="px-2 py-2">Ports</th>
                  <SortHeader label="Created" column="created" sort={sort} order={order} onSort={toggleSort} />
                </tr>
              </thead>
              <tbody>
                {pageRows.map((r) => (
                  <tr key={keyOf(r)} className="border-t border-slate-100 align-top dark:border-slate-800" data-testid={`container-${r.name}`}>
                    <td className="px-2 py-2">
                      <input type="checkbox" aria-label={`Select ${r.name} on ${r.hostName}`} checked={selected.has(keyOf(r))} onChange={(e) => toggle(r, e.target.checked)} />
                    </td>
                    <td className="px-2 py-2">
                      <Link href={`/containers/${r.hostId}/${r.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                        {r.name}
                      </Link>
                      <div className="font-mono text-xs text-slate-500">{r.id.slice(0, 12)}</div>
                    </td>
                    <td className="px-2 py-2">
                      {r.hostName}
                      {r.stale ? (
                        <span className="ml-1" title="The host isn't answering: this is its last known state.">
                          <Badge tone="amber">stale</Badge>
                        </span>
                      ) : null}
                    </td>
                    <td className="max-w-xs break-all px-2 py-2 font-mono text-xs">{r.image}</td>
                    <td className="px-2 py-2">
                      <StateBadge state={r.state} />
                      <div className="text-xs text-slate-500">{r.status}</div>
                    </td>
                    <td className="px-2 py-2 font-mono text-xs">{r.ports.length ? r.ports.map(portText).join(", ") : "—"}</td>
                    <td className="whitespace-nowrap px-2 py-2 text-xs text-slate-600 dark:text-slate-400">{formatDate(r.created * 1000)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav className="mt-4 flex flex-wrap items-center justify-between gap-3 text-sm" aria-label="Pages">
          <span className="text-slate-600 dark:text-slate-400">
            {data.total === 0 ? "Nothing to show" : `${(data.page - 1) * data.pageSize + 1}–${Math.min(data.total, data.page * data.pageSize)} of ${data.total}`}
          </span>
          <div className="flex items-center gap-2">
            <label className="flex items-center gap-1 whitespace-nowrap text-xs text-slate-500">
              Per page
              <Select className="w-auto py-1" value={pageSize} onChange={(e) => setPageSize(Number(e.target.value))}>
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </Select>
            </label>
            <Button variant="secondary" className="px-2 py-1 disabled:opacity-50" disabled={page <= 1} onClick={() => setPage((p) => Math.max(1, p - 1))}>
              Previous
            </Button>
            <span className="text-xs text-slate-500">
              Page {data.page} of {pages}
            </span>
            <Button variant="secondary" className="px-2 py-1 disabled:opacity-50" disabled={page >= pages} onClick={() => setPage((p) => Math.min(pages, p + 1))}>
              Next
            </Button>
          </div>
        </nav>
      </Card>

      <ConfirmDialog
        open={pending !== null}
        title={pending ? `${ACTION_LABEL[pending]} ${selection.length} container${selection.length === 1 ? "" : "s"}?` : ""}
        confirmLabel={pending ? ACTION_LABEL[pending] : ""}
        pending={bulk.isPending}
        error={bulk.error ? errorMessage(bulk.error) : null}
        onConfirm={() => pending && void runBulk(pending)}
        onClose={() => setPending(null)}
      >
        {pending === "remove" ? <p>They are stopped if running and deleted with their writable layer. Volumes stay.</p> : null}
        <ul className="max-h-48 list-disc overflow-auto pl-5">
          {selection.map((r) => (
            <li key={keyOf(r)}>
              {r.name} <span className="text-slate-500">on {r.hostName}</span>
            </li>
          ))}
        </ul>
      </ConfirmDialog>
    </div>
  );
}

function SortHeader({ label, column, sort, order, onSort }: { label: string; column: Sort; sort: Sort; order: "asc" | "desc"; onSort: (c: Sort) => void }) {
  const active = sort === column;
  return (
    <th className="px-2 py-2" aria-sort={active ? (order === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" className="inline-flex items-center gap-1 uppercase hover:text-slate-800 dark:hover:text-slate-200" onClick={() => onSort(column)}>
        {label}
        <span aria-hidden className={active ? "" : "opacity-30"}>
          {active && order === "desc" ? "▼" : "▲"}
        </span>
      </button>
    </th>
  );
}
