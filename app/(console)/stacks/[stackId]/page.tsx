import type { Metadata } from "next";
import { STACKS_CONTROL, STACKS_DELETE, STACKS_DEPLOY, STACKS_READ } from "@/components/stacks/permission-names";
import { StackDelivery } from "@/components/rollouts/stack-delivery";
import { StackDetail } from "@/components/stacks/stack-detail";
import { Forbidden } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Stack" };

export default async function StackPage({ params }: { params: Promise<{ stackId: string }> }) {
  const { stackId } = await params;
  const viewer = await requireViewer();
  if (!hasPermission(viewer, STACKS_READ)) return <Forbidden what="Stacks need the stacks.read permission." />;
  // Where each control may act; the client applies it to the stack's host, and the server checks every call again.
  return (
    <>
      <StackDetail
        stackId={decodeURIComponent(stackId)}
        permissions={{
          deploy: hostCoverage(viewer, STACKS_DEPLOY),
          control: hostCoverage(viewer, STACKS_CONTROL),
          remove: hostCoverage(viewer, STACKS_DELETE),
          logs: hostCoverage(viewer, "containers.logs"),
          canReadContainers: hasPermission(viewer, "containers.read"),
        }}
      />
      {/* Rollouts, webhooks and registry watching; the same rights, checked again by the server. */}
      <StackDelivery stackId={decodeURIComponent(stackId)} deploy={hostCoverage(viewer, STACKS_DEPLOY)} approve={hostCoverage(viewer, "deploys.approve")} />
    </>
  );
}
