import type { Metadata } from "next";
import { NetworksView } from "@/components/networks/networks-view";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Networks" };

export default async function NetworksPage({ searchParams }: { searchParams: Promise<{ host?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Networks need the containers.read permission." />;
  const { host } = await searchParams;
  return (
    <>
      <PageHeader title="Networks" description="Bridge networks on each host: containers on one network reach each other by name." />
      <NetworksView
        read={hostCoverage(viewer, "containers.read")}
        manage={hostCoverage(viewer, "networks.manage")}
        initialHostId={typeof host === "string" ? host : null}
      />
    </>
  );
}
