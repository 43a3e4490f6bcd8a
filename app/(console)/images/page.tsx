import type { Metadata } from "next";
import { ImagesView } from "@/components/images/images-view";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Images" };

export default async function ImagesPage({ searchParams }: { searchParams: Promise<{ host?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "images.read")) return <Forbidden what="Images need the images.read permission." />;
  const { host } = await searchParams;
  // Where each button may act; the server checks every call again.
  const coverage = {
    read: hostCoverage(viewer, "images.read"),
    pull: hostCoverage(viewer, "images.pull"),
    remove: hostCoverage(viewer, "images.delete"),
    build: hostCoverage(viewer, "images.build"),
  };
  return (
    <>
      <PageHeader title="Images" description="Images on each host: pull, tag, push to a saved registry, remove." />
      <ImagesView
        coverage={coverage}
        initialHostId={typeof host === "string" ? host : null}
        canManageRegistries={hasPermission(viewer, "registries.manage")}
      />
    </>
  );
}
