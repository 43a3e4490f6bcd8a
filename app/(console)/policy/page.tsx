import type { Metadata } from "next";
import { PolicyEditor } from "@/components/policy/policy-editor";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasGlobal, hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Deploy policy" };

export default async function PolicyPage({ searchParams }: { searchParams: Promise<{ group?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "hosts.read") && !hasPermission(viewer, "hosts.manage")) {
    return <Forbidden what="The deploy policy needs the hosts.read permission to see and hosts.manage to change." />;
  }
  const { group } = await searchParams;
  // Who may save which policy; policy.set checks again.
  const rights = {
    all: hasGlobal(viewer, "hosts.manage"),
    groupIds: hostCoverage(viewer, "hosts.manage").hostGroupIds,
  };
  return (
    <>
      <PageHeader
        title="Deploy policy"
        description="What a deployment may ask of a host. Everything that reaches the host is off until you allow it here."
      />
      <PolicyEditor rights={rights} initialScope={typeof group === "string" ? group : null} />
    </>
  );
}
