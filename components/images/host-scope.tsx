"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState, type ReactNode } from "react";
import { canManageHost, StatusBadge, statusOf, type HostItem, type ManageCoverage } from "@/components/hosts/host-status";
import { useLiveHosts } from "@/components/hosts/use-live-hosts";
import { EmptyState } from "@/components/ui/card";
import { Select } from "@/components/ui/field";
import { errorMessage, useTRPC } from "@/components/trpc/client";

// The per-host resource pages (images, networks, volumes) share this: pick one
// host out of those the viewer may read there, remembered in `?host=`.

/** Where a host permission reaches, as the page computed it on the server. */
export type Coverage = ManageCoverage;

export const covers = canManageHost;

/** A page's own permissions on the chosen host, each with the reason when it is missing. */
export function permissionReason(coverage: Coverage, host: HostItem, permission: string): string | null {
  return covers(coverage, host) ? null : `Needs the ${permission} permission on this host.`;
}

export function HostScope({
  read,
  readPermission,
  initialHostId,
  what,
  children,
}: {
  /** Hosts where the viewer may list what this page shows. */
  read: Coverage;
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

  if (hosts.error) return <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">{errorMessage(hosts.error)}</p>;
  if (!hosts.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const readable = hosts.data.filter((h) => covers(read, h));
  if (readable.length === 0) {
    return (
      <EmptyState
        title="No hosts to show"
        action={
          <Link href="/hosts" className="text-sm font-medium text-sky-700 underline dark:text-sky-400">
            Go to Hosts
          </Link>
        }
      >
        {hosts.data.length === 0
          ? `The ${what} of each host are listed here once a host is added and connected.`
          : `You don't hold ${readPermission} on any host, so there are no ${what} to list.`}
      </EmptyState>
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
          <Select id={pickerId} value={host.id} onChange={(e) => choose(e.target.value)} data-testid="host-picker">
            {readable.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
                {h.status === "connected" ? "" : ` (${statusOf(h).label})`}
              </option>
            ))}
          </Select>
        </div>
        <StatusBadge host={host} />
        <Link href={`/hosts/${host.id}`} className="text-xs text-sky-700 hover:underline dark:text-sky-400">
          Host details
        </Link>
      </div>
      {host.status !== "connected" || host.agent === "missing" ? (
        <p role="status" className="rounded-md border border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          {host.name} is {status.label}: {status.explain} Its {what} can only be listed and changed while its agent answers.
        </p>
      ) : null}
      {/* Keyed by host: each host's forms and dialogs start afresh. */}
      <div key={host.id}>{children(host)}</div>
    </div>
  );
}

/** Unix seconds (as the Docker API reports `Created`) as a date. */
export function fromUnix(seconds: number): Date {
  return new Date(seconds * 1000);
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** A disabled control's reason, shown next to it (a title alone is invisible on touch screens and to many readers). */
export function Reason({ children }: { children: ReactNode }) {
  if (!children) return null;
  return <span className="text-xs text-slate-500 dark:text-slate-400">{children}</span>;
}
