import type { Metadata } from "next";
import { ContainerDetail, type ContainerTab } from "@/components/containers/container-detail";
import { StatsHistory } from "@/components/stats/stats-history";
import { Forbidden } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Container" };

const TABS: ContainerTab[] = ["overview", "logs", "stats", "exec"];

export default async function ContainerPage({
  params,
  searchParams,
}: {
  params: Promise<{ hostId: string; containerId: string }>;
  searchParams: Promise<{ tab?: string | string[] }>;
}) {
  const { hostId, containerId } = await params;
  const { tab } = await searchParams;
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Containers need the containers.read permission." />;
  // Where each control may act; the client applies it to this container's host, and the server checks every call again.
  return (
    <>
      <ContainerDetail
        hostId={decodeURIComponent(hostId)}
        containerId={decodeURIComponent(containerId)}
        initialTab={TABS.find((t) => t === tab) ?? "overview"}
        permissions={{
          control: hostCoverage(viewer, "containers.control"),
          remove: hostCoverage(viewer, "containers.delete"),
          exec: hostCoverage(viewer, "containers.exec"),
          logs: hostCoverage(viewer, "containers.logs"),
          deploy: hostCoverage(viewer, "containers.deploy"),
          canReadHosts: hasPermission(viewer, "hosts.read"),
        }}
      />
      <StatsHistory hostId={decodeURIComponent(hostId)} containerId={decodeURIComponent(containerId)} />
    </>
  );
}
