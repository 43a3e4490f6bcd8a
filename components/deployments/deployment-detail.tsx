"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { shortDigest } from "@/components/rollouts/format";
import { RolloutTimeline } from "@/components/rollouts/timeline";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card, PageHeader } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { DetailItem, DetailList } from "@/components/ui/details";
import { Loading, Reason } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import { formatDate } from "@/components/ui/format";
import { DeploymentWatchCard } from "@/components/watch/watch-panel";
import { WebhooksCard } from "@/components/webhooks/webhooks-card";
import { DeploymentStatusBadge } from "./status";

// One deployment: what runs (image, digest, status, its container), Update
// now, the timeline of its rollouts with roll back, its webhooks and registry
// watching.

export interface DeploymentPermissions {
  deploy: HostCoverage;
  approve: HostCoverage;
  canReadContainers: boolean;
}

const REFRESH_MS = 5_000;

export function DeploymentDetail({ deploymentId, permissions }: { deploymentId: string; permissions: DeploymentPermissions }) {
  const trpc = useTRPC();
  const deployment = useQuery({ ...trpc.deployments.get.queryOptions({ id: deploymentId }), refetchInterval: REFRESH_MS });
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const [updating, setUpdating] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);

  if (deployment.error && !deployment.data) return <FormError message={errorMessage(deployment.error)} />;
  if (!deployment.data) return <Loading />;
  const d = deployment.data;
  // A host whose group is unknown (no hosts.read) counts only by id: fails closed.
  const host = { id: d.hostId, hostGroupId: hosts.data?.find((h) => h.id === d.hostId)?.hostGroupId ?? null };
  const mayDeploy = covers(permissions.deploy, host);
  const mayApprove = covers(permissions.approve, host);
  const deployReason = needsPermission("containers.deploy");

  return (
    <>
      <PageHeader
        title={d.name}
        description={`Deployment on ${d.hostName}`}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            {mayDeploy ? (
              <Button onClick={() => { setOutcome(null); setUpdating(true); }}>Update now</Button>
            ) : (
              <Reason>{deployReason}</Reason>
            )}
          </div>
        }
      />
      <div className="space-y-6">
        <Card>
          <DetailList testId="deployment-facts">
            <DetailItem label="Status">
              <DeploymentStatusBadge status={d.status} />
            </DetailItem>
            <DetailItem label="Host">{d.hostName}</DetailItem>
            <DetailItem label="Image">
              <span className="font-mono text-xs">{d.image}</span>
            </DetailItem>
            <DetailItem label="Digest">
              <span className="font-mono text-xs" title={d.digest ?? undefined} data-testid="deployment-digest">
                {d.digest ? shortDigest(d.digest) : "—"}
              </span>
            </DetailItem>
            <DetailItem label="Container">
              {d.containerId ? (
                permissions.canReadContainers ? (
                  <Link href={`/containers/${encodeURIComponent(d.hostId)}/${encodeURIComponent(d.containerId)}`} className="font-mono text-xs text-sky-700 hover:underline dark:text-sky-400">
                    {d.containerId.slice(0, 12)}
                  </Link>
                ) : (
                  <span className="font-mono text-xs">{d.containerId.slice(0, 12)}</span>
                )
              ) : (
                "none"
              )}
            </DetailItem>
            <DetailItem label="Updated">{formatDate(d.updatedAt)}</DetailItem>
            {d.message ? (
              <DetailItem label="Last message" wide>
                {d.message}
              </DetailItem>
            ) : null}
          </DetailList>
          {outcome ? (
            <p role="status" className={`mt-3 text-sm ${outcome.ok ? "text-emerald-700 dark:text-emerald-400" : "text-amber-700 dark:text-amber-400"}`}>
              {outcome.message}
            </p>
          ) : null}
        </Card>
        <RolloutTimeline target={{ deploymentId: d.id }} mayRollback={mayDeploy} rollbackReason={deployReason} />
        <WebhooksCard target={{ deploymentId: d.id }} mayManage={mayDeploy} manageReason={deployReason} mayPreApprove={mayApprove} />
        <DeploymentWatchCard deploymentId={d.id} rights={{ mayManage: mayDeploy, manageReason: deployReason, mayPreApprove: mayApprove }} />
      </div>
      {updating ? <UpdateDialog deployment={d} onClose={() => setUpdating(false)} onDone={(o) => { setUpdating(false); setOutcome(o); }} /> : null}
    </>
  );
}

/** What containers.update answered, read loosely: a rollout accepted, or an update already run. */
function outcomeOf(result: unknown, name: string): { ok: boolean; message: string } {
  const r = (result ?? {}) as { status?: string; rolloutId?: string; rolledBack?: boolean; message?: string | null };
  if (r.status === "awaitingApproval") return { ok: true, message: "Update requested: this host needs approval, so it waits for an approver (see Approvals)." };
  if (r.rolledBack) return { ok: false, message: `Rolled back: ${r.message ?? "the new container did not stay up"}. The previous container runs again.` };
  if (r.status === "failed") return { ok: false, message: `The update failed${r.message ? `: ${r.message}` : ""}.` };
  if (r.rolloutId && r.status !== "succeeded") return { ok: true, message: "Update started: follow it on the timeline." };
  return { ok: true, message: `${name} runs the newest image.` };
}

function UpdateDialog({ deployment, onClose, onDone }: { deployment: { id: string; hostId: string; name: string; image: string }; onClose: () => void; onDone: (o: { ok: boolean; message: string }) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const update = useMutation(trpc.containers.update.mutationOptions());
  return (
    <ConfirmDialog
      title={`Update ${deployment.name}?`}
      confirmLabel="Update"
      mutation={update}
      onClose={onClose}
      onConfirm={() =>
        update.mutate(
          { hostId: deployment.hostId, deploymentId: deployment.id, overridePolicy: false },
          {
            onSuccess: async (result) => {
              await Promise.all([
                qc.invalidateQueries({ queryKey: trpc.rollouts.pathKey() }),
                qc.invalidateQueries({ queryKey: trpc.deployments.pathKey() }),
                qc.invalidateQueries({ queryKey: trpc.containers.pathKey() }),
              ]);
              onDone(outcomeOf(result, deployment.name));
            },
          },
        )
      }
    >
      <p>
        Pulls <span className="font-mono text-xs">{deployment.image}</span> again and, if its digest or the settings changed, replaces the container once the new one is
        healthy. If the new one won&apos;t stay up, the old one keeps running.
      </p>
    </ConfirmDialog>
  );
}
