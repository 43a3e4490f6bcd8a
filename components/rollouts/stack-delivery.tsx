"use client";
import { useQuery } from "@tanstack/react-query";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { useTRPC } from "@/components/trpc/client";
import { StackWatchesCard } from "@/components/watch/watch-panel";
import { WebhooksCard } from "@/components/webhooks/webhooks-card";
import { RolloutTimeline } from "./timeline";

// A stack page's continuous delivery: its rollouts timeline, its webhooks and
// each service's registry watching (under the stack's own sections).

export function StackDelivery({ stackId, deploy, approve }: { stackId: string; deploy: HostCoverage; approve: HostCoverage }) {
  const trpc = useTRPC();
  // The same query (and cache entry) the stack's own sections read.
  const stack = useQuery(trpc.stacks.get.queryOptions({ stackId }));
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  if (!stack.data) return null;
  // A host whose group is unknown (no hosts.read) counts only by id: fails closed.
  const host = { id: stack.data.hostId, hostGroupId: hosts.data?.find((h) => h.id === stack.data.hostId)?.hostGroupId ?? null };
  const mayDeploy = covers(deploy, host);
  const mayApprove = covers(approve, host);
  const reason = needsPermission("stacks.deploy");
  return (
    <section aria-label="Continuous delivery" className="mt-6 space-y-6">
      <RolloutTimeline target={{ stackId }} mayRollback={mayDeploy} rollbackReason={reason} />
      <WebhooksCard target={{ stackId }} mayManage={mayDeploy} manageReason={reason} mayPreApprove={mayApprove} />
      <StackWatchesCard stackId={stackId} rights={{ mayManage: mayDeploy, manageReason: reason, mayPreApprove: mayApprove }} />
    </section>
  );
}
