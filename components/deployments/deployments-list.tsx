"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { hostChoice } from "@/components/hosts/host-status";
import { RolloutStatusBadge } from "@/components/rollouts/parts";
import { TRIGGER_LABEL } from "@/components/rollouts/format";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { ButtonLink } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { Loading } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import { formatDate, plural } from "@/components/ui/format";
import { HostPicker } from "@/components/ui/host-picker";
import { Pagination } from "@/components/ui/pagination";
import { DeploymentStatusBadge } from "./status";

// Every saved deployment the viewer may read, across hosts: its image, status
// and last rollout; a host filter; paged by cursor.

const PAGE_SIZE = 50;
const REFRESH_MS = 10_000;

export function DeploymentsList({ canDeploy, canReadHosts }: { canDeploy: boolean; canReadHosts: boolean }) {
  const trpc = useTRPC();
  const [hostId, setHostId] = useState("");
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => setCursors([undefined]), [hostId]);
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), enabled: canReadHosts, retry: false });
  const list = useQuery({
    ...trpc.deployments.list.queryOptions({ ...(hostId ? { hostId } : {}), ...(cursor ? { cursor } : {}), limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
  });

  if (list.error && !list.data) return <FormError message={errorMessage(list.error)} />;
  if (!list.data) return <Loading />;
  const { items, nextCursor } = list.data;
  if (!hostId && cursors.length === 1 && items.length === 0) {
    return (
      <EmptyState title="No deployments yet" action={canDeploy ? <ButtonLink href="/deploy">Deploy a container</ButtonLink> : null}>
        {canDeploy
          ? "A deployment is a container Berth deployed from the Deploy page (or POST /api/v1/hosts/{hostId}/deployments). Deploy one, then update it from here, by a webhook from CI, or by watching its tag in the registry."
          : "No deployment runs on the hosts you can see. Deploying needs the containers.deploy permission; ask an Owner or Admin for it."}
      </EmptyState>
    );
  }
  const page = cursors.length;
  const choices = (hosts.data ?? []).map(hostChoice);
  return (
    <Card
      title={plural(items.length, "deployment") + (page > 1 ? ` on page ${page}` : "")}
      actions={
        choices.length > 1 ? (
          <label className="flex items-center gap-2 text-sm">
            <span className="text-slate-600 dark:text-slate-400">Host</span>
            <HostPicker aria-label="Host" className="w-auto py-1" hosts={choices} value={hostId} onChange={setHostId} emptyLabel="All hosts" />
          </label>
        ) : null
      }
    >
      {items.length === 0 ? (
        <p className="text-sm text-slate-500">No deployments on this host.</p>
      ) : (
        <DataTable testId="deployments-table" columns={["Name", "Host", "Image", "Status", "Last rollout", "Updated"]}>
          {items.map((d) => (
            <tr key={d.id} data-testid="deployment-row">
              <td className={`${cell} font-medium`}>
                <Link href={`/deployments/${encodeURIComponent(d.id)}`} className="text-sky-700 hover:underline dark:text-sky-400">
                  {d.name}
                </Link>
              </td>
              <td className={cell}>{d.hostName}</td>
              <td className={`${cell} font-mono text-xs [overflow-wrap:anywhere]`}>{d.image}</td>
              <td className={cell}>
                <DeploymentStatusBadge status={d.status} />
              </td>
              <td className={`${cell} text-xs`}>
                {d.lastRollout ? (
                  <div className="flex flex-wrap items-center gap-1">
                    <RolloutStatusBadge status={d.lastRollout.status} />
                    <span>
                      {TRIGGER_LABEL[d.lastRollout.trigger]}, {formatDate(d.lastRollout.createdAt)}
                    </span>
                  </div>
                ) : (
                  "—"
                )}
              </td>
              <td className={`${cell} text-xs text-slate-600 dark:text-slate-400`}>{formatDate(d.updatedAt)}</td>
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
