"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState, type ReactNode } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { EmptyState } from "@/components/ui/card";
import { Callout, ErrorText, Loading } from "@/components/ui/feedback";
import { HostPicker } from "@/components/ui/host-picker";
import { covers, type HostCoverage } from "./coverage";
import { hostChoice, StatusBadge, statusOf, type HostItem } from "./host-status";
import { useLiveHosts } from "./use-live-hosts";

// The per-host resource pages (images, networks, volumes) share this: pick one
// host out of those the viewer may read there, remembered in `?host=`.

export function HostScope({
  read,
  readPermission,
  initialHostId,
  what,
  children,
}: {
  /** Hosts where the viewer may list what this page shows. */
  read: HostCoverage;
  readPermission: string;
  initialHostId: string | null;
  /** "images", "networks" …: for the empty and error messages. */
  what: string;
  children: (host: HostItem) => ReactNode;
}) {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  useLiveHosts();
  const [chosen, setChosen] = useState<string | null>(initialHostId);
  const pickerId = useId();

  if (hosts.error) return <ErrorText>{errorMessage(hosts.error)}</ErrorText>;
  if (!hosts.data) return <Loading />;
  const readable = hosts.data.filter((h) => covers(read, h));
  if (readable.length === 0) {
    return (
      <NoHostEmptyState title="No hosts to show">
        {hosts.data.length === 0
          ? `The ${what} of each host are listed here once a host is added and connected.`
          : `You don't hold ${readPermission} on any host, so there are no ${what} to list.`}
      </NoHostEmptyState>
    );
  }
  const host = readable.find((h) => h.id === chosen) ?? readable[0]!;
  const status = statusOf(host);

  const choose = (id: string) => {
    setChosen(id);
    // Shareable and kept on reload, without a round trip to the server.
    const url = new URL(window.location.href);
    url.searchParams.set("host", id);
    window.history.replaceState(window.history.state, "", url);
  };

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <label htmlFor={pickerId} className="text-sm font-medium text-slate-700 dark:text-slate-300">
          Host
        </label>
        <div className="w-72 max-w-full">
          <HostPicker id={pickerId} hosts={readable.map(hostChoice)} value={host.id} onChange={choose} data-testid="host-picker" />
        </div>
        <StatusBadge host={host} />
        <Link href={`/hosts/${host.id}`} className="text-xs text-sky-700 hover:underline dark:text-sky-400">
          Host details
        </Link>
      </div>
      {host.status !== "connected" || host.agent === "missing" ? (
        <Callout>
          {host.name} is {status.label}: {status.explain} Its {what} can only be listed and changed while its agent answers.
        </Callout>
      ) : null}
      {/* Keyed by host: each host's forms and dialogs start afresh. */}
      <div key={host.id}>{children(host)}</div>
    </div>
  );
}

/** There is no host to work on here: say why, with the way to the hosts page. */
export function NoHostEmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <EmptyState
      title={title}
      action={
        <Link href="/hosts" className="text-sm font-medium text-sky-700 underline dark:text-sky-400">
          Go to Hosts
        </Link>
      }
    >
      {children}
    </EmptyState>
  );
}
