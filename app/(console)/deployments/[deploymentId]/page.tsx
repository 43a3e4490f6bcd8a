import type { Metadata } from "next";
import { DeploymentDetail } from "@/components/deployments/deployment-detail";
import { Forbidden } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Deployment" };

export default async function DeploymentPage({ params }: { params: Promise<{ deploymentId: string }> }) {
  const { deploymentId } = await params;
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Deployments need the containers.read permission." />;
  // Where each control may act; the client applies it to the deployment's host, and the server checks every call again.
  return (
    <DeploymentDetail
      deploymentId={decodeURIComponent(deploymentId)}
      permissions={{
        deploy: hostCoverage(viewer, "containers.deploy"),
        approve: hostCoverage(viewer, "deploys.approve"),
        canReadContainers: hasPermission(viewer, "containers.read"),
      }}
    />
  );
}
