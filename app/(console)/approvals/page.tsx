import type { Metadata } from "next";
import { ApprovalsTabs } from "@/components/approvals/approvals-tabs";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Approvals" };

export default async function ApprovalsPage({ searchParams }: { searchParams: Promise<{ tab?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!(["deploys.approve", "containers.deploy", "stacks.deploy"] as const).some((p) => hasPermission(viewer, p))) {
    return <Forbidden what="Approvals need the deploys.approve permission (or a deploy permission, to follow one's own requests)." />;
  }
  const { tab } = await searchParams;
  return (
    <>
      <PageHeader title="Approvals" description="Deploys, updates and roll backs waiting for an approver on hosts that require approval, and the decisions made." />
      {/* Who may change the rules; approvals.setRule checks again. */}
      <ApprovalsTabs viewerId={viewer.user.id} mayManageRules={hasPermission(viewer, "hosts.manage")} initialTab={typeof tab === "string" ? tab : undefined} />
    </>
  );
}
