"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { covers, type HostCoverage } from "@/components/hosts/coverage";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button, ButtonLink } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell, DataTable, type Column } from "@/components/ui/data-table";
import { Callout, Loading, Reason } from "@/components/ui/feedback";
import { FormError, Input, Select } from "@/components/ui/field";
import { formatDate, plural } from "@/components/ui/format";
import { HostPicker } from "@/components/ui/host-picker";
import { Pagination } from "@/components/ui/pagination";
import { useDebounced } from "@/components/ui/use-debounced";
import type { AppRouter } from "@/server/routers/_app";
import { ACTION_LABEL, ACTION_PERMISSION, portText, StateBadge, type ContainerAction } from "./shared";
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

export interface ContainersPermissions {
  control: HostCoverage;
  remove: HostCoverage;
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
  if (!data) return <Loading />;

  if (!filtered && data.total === 0) {
    const noHosts = data.hosts.length === 0;
    return (
      <EmptyState
        title={noHosts ? "No hosts yet" : "No containers yet"}
        action={
          noHosts ? <ButtonLink href="/hosts">Go to Hosts</ButtonLink> : permissions.canDeploy ? <ButtonLink href="/deploy">Deploy a container</ButtonLink> : null
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

  const sortable = (label: string, column: Sort): Column => ({ label, sort: { order: sort === column ? order : null, onSort: () => toggleSort(column) } });
  const columns: Column[] = [
    {
      label: (
        <input
          type="checkbox"
          aria-label="Select every container on this page"
          checked={allOnPage}
          onChange={(e) => {
            for (const r of pageRows) toggle(r, e.target.checked);
          }}
        />
      ),
      className: "w-8",
    },
    sortable("Name", "name"),
    sortable("Host", "host"),
    sortable("Image", "image"),
    sortable("State", "state"),
    { label: "Ports" },
    sortable("Created", "created"),
  ];
  const hostOptions = permissions.canReadHosts && hosts.data ? hosts.data.map((h) => ({ id: h.id, name: h.name })) : data.hosts.map((h) => ({ id: h.hostId, name: h.hostId }));
  const selection = [...selected.values()];

  return (
    <div className="space-y-4">
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-5" role="search" aria-label="Filter containers">
        <HostPicker aria-label="Host" hosts={hostOptions} value={hostId} onChange={setHostId} emptyLabel="All hosts" />
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
        <Callout testId="stale-hosts">
          {staleHosts.map((h) => hostById.get(h.hostId)?.name ?? h.hostId).join(", ")} {staleHosts.length === 1 ? "is" : "are"} not answering:{" "}
          {staleHosts.some((h) => h.known) ? "their containers are shown as last seen, marked stale." : "their containers can't be listed until they reconnect."}
        </Callout>
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
                size="xs"
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
          <Button variant="ghost" size="xs" onClick={() => setSelected(new Map())}>
            Clear
          </Button>
          <Reason>{BULK_ACTIONS.map(bulkReason).find(Boolean)}</Reason>
        </div>
      ) : null}

      {results ? (
        <div role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950 dark:text-rose-300">
          {ACTION_LABEL[results.action]} failed for {plural(results.failed.length, "container")}:
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
            {plural(data.total, "container")}
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
          <DataTable testId="containers-table" columns={columns}>
            {pageRows.map((r) => (
              <tr key={keyOf(r)} className="align-top" data-testid={`container-${r.name}`}>
                <td className={cell}>
                  <input type="checkbox" aria-label={`Select ${r.name} on ${r.hostName}`} checked={selected.has(keyOf(r))} onChange={(e) => toggle(r, e.target.checked)} />
                </td>
                <td className={cell}>
                  <Link href={`/containers/${r.hostId}/${r.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                    {r.name}
                  </Link>
                  <div className="font-mono text-xs text-slate-500">{r.id.slice(0, 12)}</div>
                </td>
                <td className={cell}>
                  {r.hostName}
                  {r.stale ? (
                    <span className="ml-1" title="The host isn't answering: this is its last known state.">
                      <Badge tone="amber">stale</Badge>
                    </span>
                  ) : null}
                </td>
                <td className={`${cell} max-w-xs break-all font-mono text-xs`}>
                  {r.image}
                  {r.updateAvailable ? (
                    <span className="ml-1 font-sans" title="The tag this container was started from now points at a newer image in the registry.">
                      <Badge tone="sky">update available</Badge>
                    </span>
                  ) : null}
                </td>
                <td className={cell}>
                  <StateBadge state={r.state} />
                  <div className="text-xs text-slate-500">{r.status}</div>
                </td>
                <td className={`${cell} font-mono text-xs`}>{r.ports.length ? r.ports.map(portText).join(", ") : "—"}</td>
                <td className={`${cell} whitespace-nowrap text-xs text-slate-600 dark:text-slate-400`}>{formatDate(r.created * 1000)}</td>
              </tr>
            ))}
          </DataTable>
        )}
        <Pagination
          summary={data.total === 0 ? "Nothing to show" : `${(data.page - 1) * data.pageSize + 1}–${Math.min(data.total, data.page * data.pageSize)} of ${data.total}`}
          pageSize={{ value: pageSize, options: PAGE_SIZES, onChange: setPageSize }}
          previous={{ label: "Previous", disabled: page <= 1, onClick: () => setPage((p) => Math.max(1, p - 1)) }}
          position={`Page ${data.page} of ${pages}`}
          next={{ label: "Next", disabled: page >= pages, onClick: () => setPage((p) => Math.min(pages, p + 1)) }}
        />
      </Card>

      {pending ? (
        <ConfirmDialog
          title={`${ACTION_LABEL[pending]} ${plural(selection.length, "container")}?`}
          confirmLabel={ACTION_LABEL[pending]}
          mutation={bulk}
          onConfirm={() => void runBulk(pending)}
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
      ) : null}
    </div>
  );
}
