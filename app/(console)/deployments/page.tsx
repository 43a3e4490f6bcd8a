import type { Metadata } from "next";
import { DeploymentsList } from "@/components/deployments/deployments-list";
import { ButtonLink } from "@/components/ui/button";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Deployments" };

export default async function DeploymentsPage() {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Deployments need the containers.read permission." />;
  const canDeploy = hasPermission(viewer, "containers.deploy");
  return (
    <>
      <PageHeader
        title="Deployments"
        description="Containers Berth deployed and keeps up to date: each one's rollouts, webhooks for CI and registry watching."
        actions={canDeploy ? <ButtonLink href="/deploy">Deploy</ButtonLink> : null}
      />
      {/* What the page may show; the server checks every call again. */}
      <DeploymentsList canDeploy={canDeploy} canReadHosts={hasPermission(viewer, "hosts.read")} />
    </>
  );
}
