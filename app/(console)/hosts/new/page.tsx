import type { Metadata } from "next";
import { AddHostWizard } from "@/components/hosts/add-host-wizard";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasGlobal } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Add a host" };

export default async function NewHostPage() {
  const viewer = await requireViewer();
  if (!hasGlobal(viewer, "hosts.manage")) return <Forbidden what="Adding hosts needs the hosts.manage permission everywhere." />;
  return (
    <>
      <PageHeader title="Add a host over SSH" description="Connect, confirm the host's key, then install the agent." />
      <AddHostWizard />
    </>
  );
}
