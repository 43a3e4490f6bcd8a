"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { Sparkline } from "@/components/dashboard/sparkline";
import { useRouter } from "next/navigation";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { AgentBadge, LastSeen, StatusBadge, resourcesLine, runtimeLine, systemLine, type HostItem } from "./host-status";
import { useLiveHosts } from "./use-live-hosts";

const ADD_REASON = "Adding hosts needs the hosts.manage permission everywhere.";

/** A link that looks like the primary Button. */
export const linkButton =
  "inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium transition-colors bg-sky-600 text-white hover:bg-sky-700";

/** The hosts list, kept live; with the ways to add a host for those who may. */
/** Where the viewer holds hosts.manage (decided on the server page). */
export interface ManageCoverage {
  all: boolean;
  hostIds: string[];
  hostGroupIds: string[];
}

function mayManage(c: ManageCoverage | undefined, h: HostItem): boolean {
  if (!c) return false;
  return c.all || c.hostIds.includes(h.id) || (h.hostGroupId !== null && c.hostGroupIds.includes(h.hostGroupId));
}

export function HostsView({ canAddHosts, manage }: { canAddHosts: boolean; manage?: ManageCoverage }) {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const { live } = useLiveHosts();
  const hasLocal = hosts.data?.some((h) => h.transport === "local") ?? true;

  const actions = canAddHosts ? (
    <div className="flex flex-wrap gap-2">
      {hosts.data && !hasLocal ? <AddLocalButton /> : null}
      <Link href="/hosts/new" className={linkButton}>
        Add a host over SSH
      </Link>
    </div>
  ) : (
    <p className="text-xs text-slate-500">{ADD_REASON}</p>
  );

  if (hosts.error) return <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">{errorMessage(hosts.error)}</p>;
  if (!hosts.data) return <p className="text-sm text-slate-500">Loading…</p>;
  if (hosts.data.length === 0) {
    return (
      <EmptyState
        title="No hosts yet"
        action={
          canAddHosts ? (
            <div className="flex flex-wrap justify-center gap-2">
              <Link href="/hosts/new" className={linkButton}>
                Add a host over SSH
              </Link>
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
          {hosts.data.length} host{hosts.data.length === 1 ? "" : "s"}
          <span className="text-xs font-normal text-slate-500" data-testid="live-indicator">
            {live ? "● live" : "○ connecting…"}
          </span>
        </span>
      }
      actions={actions}
    >
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="hosts-table">
          <thead className="text-xs uppercase text-slate-500">
            <tr>
              <th className="px-2 py-2">Host</th>
              <th className="px-2 py-2">Status</th>
              <th className="px-2 py-2">System</th>
              <th className="px-2 py-2">Resources</th>
              <th className="px-2 py-2">Runtime</th>
              <th className="px-2 py-2">Agent</th>
              <th className="px-2 py-2">Containers</th>
              <th className="px-2 py-2">Last seen</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
            {hosts.data.map((h) => (
              <HostRow key={h.id} host={h} canManage={mayManage(manage, h)} />
            ))}
          </tbody>
        </table>
      </div>
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
  const reason = !canManage ? "Needs the hosts.manage permission on this host." : h.status !== "connected" ? "Needs a working connection to the host." : null;
  return (
    <div className="mt-1 space-y-1">
      <Button variant="secondary" className="px-2 py-0.5 text-xs" disabled={Boolean(reason) || upgrade.isPending} title={reason ?? "Install the gateway's agent build; containers keep running"} onClick={() => upgrade.mutate({ hostId: h.id })}>
        {upgrade.isPending ? "Upgrading…" : "Upgrade agent"}
      </Button>
      {upgrade.error ? <p role="alert" className="max-w-xs text-xs text-rose-700 dark:text-rose-400">{errorMessage(upgrade.error)}</p> : null}
    </div>
  );
}

function HostRow({ host: h, canManage }: { host: HostItem; canManage: boolean }) {
  return (
    <tr data-testid={`host-${h.name}`} className="align-top">
      <td className="px-2 py-2">
        <Link href={`/hosts/${h.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {h.name}
        </Link>
        <div className="text-xs text-slate-500">
          {h.transport === "local" ? "this machine" : `${h.username}@${h.address}:${h.port}`}
          {h.hostGroupName ? ` · ${h.hostGroupName}` : ""}
        </div>
      </td>
      <td className="px-2 py-2">
        <StatusBadge host={h} />
        {h.status !== "connected" && h.statusMessage ? <div className="mt-1 max-w-xs text-xs text-slate-500">{h.statusMessage}</div> : null}
      </td>
      <td className="px-2 py-2 text-xs" data-testid="host-system">{systemLine(h.facts)}</td>
      <td className="px-2 py-2 text-xs">
        {resourcesLine(h.facts)}
        {h.samples.length ? (
          <div className="mt-1 flex items-center gap-2" data-testid="host-sparklines">
            <Sparkline values={h.samples.map((x) => x.load)} label="Load" minCeiling={1} />
            <Sparkline values={h.samples.map((x) => x.memory)} label="Memory used" min={0} max={1} tone="violet" format={(v) => `${Math.round(v * 100)}%`} />
          </div>
        ) : null}
      </td>
      <td className="px-2 py-2 text-xs">{runtimeLine(h.facts)}</td>
      <td className="px-2 py-2" data-testid="host-agent">
        <AgentBadge host={h} />
        {h.upgradeAvailable ? <UpgradeButton host={h} canManage={canManage} /> : null}
      </td>
      <td className="px-2 py-2 text-xs">{h.containerCount === null ? "—" : `${h.runningCount ?? 0} running / ${h.containerCount}`}</td>
      <td className="whitespace-nowrap px-2 py-2 text-xs">
        <LastSeen at={h.lastSeenAt} />
      </td>
    </tr>
  );
}

function AddLocalButton() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const add = useMutation(
    trpc.hosts.addLocal.mutationOptions({
      onSuccess: async (host) => {
        await qc.invalidateQueries(trpc.hosts.list.pathFilter());
        router.push(`/hosts/${host.id}`);
      },
    }),
  );
  return (
    <span className="inline-flex flex-col items-center gap-1">
      <Button variant="secondary" disabled={add.isPending} onClick={() => add.mutate({})}>
        {add.isPending ? "Adding this machine…" : "Add this machine"}
      </Button>
      {add.error ? <span role="alert" className="text-xs text-rose-700 dark:text-rose-400">{errorMessage(add.error)}</span> : null}
    </span>
  );
}
