import type { Metadata } from "next";
import { EmptyState, Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { getViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";
import { listHosts } from "@/server/services/hosts/list-hosts";

export const metadata: Metadata = { title: "Hosts" };

export default async function HostsPage() {
  const viewer = (await getViewer())!;
  if (!hasPermission(viewer, "hosts.read")) return <Forbidden what="Hosts need the hosts.read permission." />;
  const hosts = await listHosts(db(), hostCoverage(viewer, "hosts.read"));
  return (
    <>
      <PageHeader title="Hosts" description="Linux machines that run the Berth agent." />
      {hosts.length === 0 ? (
        <EmptyState title="No hosts yet">
          Adding a host over SSH (with its key pinned and the agent installed for you) arrives in the next release.
          Until then there is nothing to deploy to.
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900">
          {hosts.map((h) => (
            <li key={h.id} className="px-4 py-3 text-sm">
              <span className="font-medium">{h.name}</span>{" "}
              <span className="text-slate-500">
                {h.address}:{h.port}
                {h.hostGroup ? ` · ${h.hostGroup.name}` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
