import type { Metadata } from "next";
import Link from "next/link";
import { ContainersView } from "@/components/containers/containers-view";
import { buttonClass } from "@/components/ui/button";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Containers" };

export default async function ContainersPage() {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Containers need the containers.read permission." />;
  const canDeploy = hasPermission(viewer, "containers.deploy");
  return (
    <>
      <PageHeader
        title="Containers"
        description="Everything on your hosts, kept current from each agent's events."
        actions={
          canDeploy ? (
            <Link href="/deploy" className={buttonClass()}>
              Deploy
            </Link>
          ) : (
            <span className="text-xs text-slate-500">Deploying needs the containers.deploy permission.</span>
          )
        }
      />
      {/* What the controls may act on; the server checks every call again. */}
      <ContainersView
        permissions={{
          control: hostCoverage(viewer, "containers.control"),
          remove: hostCoverage(viewer, "containers.delete"),
          canDeploy,
          canReadHosts: hasPermission(viewer, "hosts.read"),
        }}
      />
    </>
  );
}
