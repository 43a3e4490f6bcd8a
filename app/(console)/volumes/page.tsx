import type { Metadata } from "next";
import { VolumesView } from "@/components/networks/volumes-view";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Volumes" };

export default async function VolumesPage({ searchParams }: { searchParams: Promise<{ host?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Volumes need the containers.read permission." />;
  const { host } = await searchParams;
  return (
    <>
      <PageHeader title="Volumes" description="Named volumes on each host: data that outlives the containers using it." />
      <VolumesView
        read={hostCoverage(viewer, "containers.read")}
        manage={hostCoverage(viewer, "volumes.manage")}
        initialHostId={typeof host === "string" ? host : null}
      />
    </>
  );
}
