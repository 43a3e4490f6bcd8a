import type { Metadata } from "next";
import { HostDetail } from "@/components/hosts/host-detail";
import { StatsHistory } from "@/components/stats/stats-history";
import { Forbidden } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Host" };

export default async function HostPage({ params }: { params: Promise<{ hostId: string }> }) {
  const { hostId } = await params;
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "hosts.read")) return <Forbidden what="Hosts need the hosts.read permission." />;
  // Which hosts the buttons may act on; the server checks every call again.
  return (
    <>
      <HostDetail hostId={hostId} manage={hostCoverage(viewer, "hosts.manage")} />
      <StatsHistory hostId={hostId} />
    </>
  );
}
