import type { Metadata } from "next";
import { HostsView } from "@/components/hosts/hosts-view";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasGlobal, hostCoverage, hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Hosts" };

export default async function HostsPage() {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "hosts.read")) return <Forbidden what="Hosts need the hosts.read permission." />;
  return (
    <>
      <PageHeader title="Hosts" description="Linux machines that run the Berth agent. Their state updates live." />
      {/* Adding a host can't be scoped to a host that doesn't exist yet: it takes hosts.manage everywhere. */}
      <HostsView canAddHosts={hasGlobal(viewer, "hosts.manage")} manage={hostCoverage(viewer, "hosts.manage")} />
    </>
  );
}
