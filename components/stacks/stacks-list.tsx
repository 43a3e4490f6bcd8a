"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { covers, type HostCoverage } from "@/components/hosts/coverage";
import { hostChoice } from "@/components/hosts/host-status";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { ButtonLink } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { Loading } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import { formatDate, plural } from "@/components/ui/format";
import { HostPicker } from "@/components/ui/host-picker";
import { Pagination } from "@/components/ui/pagination";
import { useStacksTRPC } from "./api";
import { ServiceChips, StackStatusBadge } from "./status";

// Every stack the viewer may read, across hosts: a host filter, each stack's
// status and services, its version and who changed it last; paged by cursor.

const PAGE_SIZE = 50;
/** While something is applying, read the list again this often. */
const APPLYING_REFRESH_MS = 3_000;

export function StacksList({ read, canDeploy }: { read: HostCoverage; canDeploy: boolean }) {
  const trpc = useTRPC();
  const api = useStacksTRPC();
  const [hostId, setHostId] = useState("");
  // Cursors of the pages before this one (the first page has none).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => setCursors([undefined]), [hostId]);

  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const readable = useMemo(() => (hosts.data ?? []).filter((h) => covers(read, h)), [hosts.data, read]);
  const list = useQuery({
    ...api.stacks.list.queryOptions({ ...(hostId ? { hostId } : {}), ...(cursor ? { cursor } : {}), limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((s) => s.status === "applying") ? APPLYING_REFRESH_MS : false),
  });

  if (list.error && !list.data) return <FormError message={errorMessage(list.error)} />;
  if (!list.data) return <Loading />;
  const { items, nextCursor } = list.data;

  if (!hostId && cursors.length === 1 && items.length === 0) {
    return (
      <EmptyState title="No stacks yet" action={canDeploy ? <ButtonLink href="/stacks/new">New stack</ButtonLink> : null}>
        {canDeploy
          ? "A stack is a compose file (and its .env) that Berth deploys, updates and rolls back on a host. Create one in the editor or upload your compose file."
          : "No stack runs on the hosts you can see. Creating one needs the stacks.deploy permission; ask an Owner or Admin for it."}
      </EmptyState>
    );
  }

  const page = cursors.length;
  return (
    <Card
      title={plural(items.length, "stack") + (page > 1 ? ` on page ${page}` : "")}
      actions={
        readable.length > 1 ? (
          <label className="flex items-center gap-2 text-sm">
            <span className="text-slate-600 dark:text-slate-400">Host</span>
            <HostPicker aria-label="Host" className="w-auto py-1" hosts={readable.map(hostChoice)} value={hostId} onChange={setHostId} emptyLabel="All hosts" />
          </label>
        ) : null
      }
    >
      {items.length === 0 ? (
        <p className="text-sm text-slate-500">No stacks on this host.</p>
      ) : (
        <DataTable testId="stacks-table" columns={["Name", "Host", "Status", "Services", "Version", "Updated"]}>
          {items.map((s) => (
            <tr key={s.id} data-testid="stack-row">
              <td className={`${cell} font-medium`}>
                <Link href={`/stacks/${s.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
                  {s.name}
                </Link>
              </td>
              <td className={cell}>{s.hostName}</td>
              <td className={cell}>
                <StackStatusBadge status={s.status} />
              </td>
              <td className={cell}>
                <ServiceChips services={s.services} />
              </td>
              <td className={`${cell} tabular-nums`}>v{s.version}</td>
              <td className={`${cell} text-xs text-slate-600 dark:text-slate-400`}>
                <div>{formatDate(s.updatedAt)}</div>
                <div>{s.updatedBy ?? "—"}</div>
              </td>
            </tr>
          ))}
        </DataTable>
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
