import type { Metadata } from "next";
import { DeployForm } from "@/components/deploy/deploy-form";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Deploy" };

export default async function DeployPage({ searchParams }: { searchParams: Promise<{ host?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.deploy")) return <Forbidden what="Deploying needs the containers.deploy permission." />;
  const { host } = await searchParams;
  return (
    <>
      <PageHeader
        title="Deploy a container"
        description="Run an image on one of your hosts. The host's deploy policy is checked as you type and again when you deploy."
      />
      {/* Which hosts the form offers; the server checks the permission and the policy again on deploy. */}
      <DeployForm deploy={hostCoverage(viewer, "containers.deploy")} initialHostId={typeof host === "string" ? host : null} />
    </>
  );
}
