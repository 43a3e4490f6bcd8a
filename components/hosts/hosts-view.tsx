"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { Sparkline } from "@/components/dashboard/sparkline";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button, ButtonLink } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading } from "@/components/ui/feedback";
import { plural } from "@/components/ui/format";
import { AddLocalButton } from "./add-local-button";
import { covers, needsPermission, type HostCoverage } from "./coverage";
import { AgentBadge, containerCounts, LastSeen, StatusBadge, resourcesLine, runtimeLine, systemLine, type HostItem } from "./host-status";
import { useLiveHosts } from "./use-live-hosts";

const ADD_REASON = "Adding hosts needs the hosts.manage permission everywhere.";

/** The hosts list, kept live; with the ways to add a host for those who may. */
export function HostsView({ canAddHosts, manage }: { canAddHosts: boolean; /** Where the viewer holds hosts.manage. */ manage?: HostCoverage }) {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const { live } = useLiveHosts();
  const hasLocal = hosts.data?.some((h) => h.transport === "local") ?? true;

  const actions = canAddHosts ? (
    <div className="flex flex-wrap gap-2">
      {hosts.data && !hasLocal ? <AddLocalButton /> : null}
      <ButtonLink href="/hosts/new">Add a host over SSH</ButtonLink>
    </div>
  ) : (
    <p className="text-xs text-slate-500">{ADD_REASON}</p>
  );

  if (hosts.error) return <ErrorText>{errorMessage(hosts.error)}</ErrorText>;
  if (!hosts.data) return <Loading />;
  if (hosts.data.length === 0) {
    return (
      <EmptyState
        title="No hosts yet"
        action={
          canAddHosts ? (
            <div className="flex flex-wrap justify-center gap-2">
              <ButtonLink href="/hosts/new">Add a host over SSH</ButtonLink>
              <AddLocalButton />
            </div>
          ) : null
        }
      >
        {canAddHosts ? (
          <>
            Add a Linux machine over SSH: you confirm its host key, Berth pins it and installs its agent. Or add the machine
            the console runs on.
          </>
        ) : (
          <>There is nothing to deploy to yet. {ADD_REASON} Ask an Owner or Admin to add one.</>
        )}
      </EmptyState>
    );
  }
  return (
    <Card
      title={
        <span className="flex items-center gap-2">
          {plural(hosts.data.length, "host")}
          <span className="text-xs font-normal text-slate-500" data-testid="live-indicator">
            {live ? "● live" : "○ connecting…"}
          </span>
        </span>
      }
      actions={actions}
    >
      <DataTable testId="hosts-table" columns={["Host", "Status", "System", "Resources", "Runtime", "Agent", "Containers", "Last seen"]}>
        {hosts.data.map((h) => (
          <HostRow key={h.id} host={h} canManage={manage ? covers(manage, h) : false} />
        ))}
      </DataTable>
    </Card>
  );
}

function UpgradeButton({ host: h, canManage }: { host: HostItem; canManage: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const upgrade = useMutation(
    trpc.hosts.upgradeAgent.mutationOptions({
      onSettled: () => qc.invalidateQueries(trpc.hosts.list.pathFilter()),
    }),
  );
  const reason = !canManage ? needsPermission("hosts.manage") : h.status !== "connected" ? "Needs a working connection to the host." : null;
  return (
    <div className="mt-1 space-y-1">
      <Button variant="secondary" size="xs" disabled={Boolean(reason) || upgrade.isPending} title={reason ?? "Install the gateway's agent build; containers keep running"} onClick={() => upgrade.mutate({ hostId: h.id })}>
        {upgrade.isPending ? "Upgrading…" : "Upgrade agent"}
      </Button>
      {upgrade.error ? <ErrorText small className="max-w-xs">{errorMessage(upgrade.error)}</ErrorText> : null}
    </div>
  );
}

function HostRow({ host: h, canManage }: { host: HostItem; canManage: boolean }) {
  return (
    <tr data-testid={`host-${h.name}`} className="align-top">
      <td className={cell}>
        <Link href={`/hosts/${h.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {h.name}
        </Link>
        <div className="text-xs text-slate-500">
          {h.transport === "local" ? "this machine" : `${h.username}@${h.address}:${h.port}`}
          {h.hostGroupName ? ` · ${h.hostGroupName}` : ""}
        </div>
      </td>
      <td className={cell}>
        <StatusBadge host={h} />
        {h.status !== "connected" && h.statusMessage ? <div className="mt-1 max-w-xs text-xs text-slate-500">{h.statusMessage}</div> : null}
      </td>
      <td className={`${cell} text-xs`} data-testid="host-system">
        {systemLine(h.facts)}
      </td>
      <td className={`${cell} text-xs`}>
        {resourcesLine(h.facts)}
        {h.samples.length ? (
          <div className="mt-1 flex items-center gap-2" data-testid="host-sparklines">
            <Sparkline values={h.samples.map((x) => x.load)} label="Load" minCeiling={1} />
            <Sparkline values={h.samples.map((x) => x.memory)} label="Memory used" min={0} max={1} tone="violet" format={(v) => `${Math.round(v * 100)}%`} />
          </div>
        ) : null}
      </td>
      <td className={`${cell} text-xs`}>{runtimeLine(h.facts)}</td>
      <td className={cell} data-testid="host-agent">
        <AgentBadge host={h} />
        {h.upgradeAvailable ? <UpgradeButton host={h} canManage={canManage} /> : null}
      </td>
      <td className={`${cell} text-xs`}>{containerCounts(h)}</td>
      <td className={`${cell} whitespace-nowrap text-xs`}>
        <LastSeen at={h.lastSeenAt} />
      </td>
    </tr>
  );
}
