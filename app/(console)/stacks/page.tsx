import type { Metadata } from "next";
import { STACKS_DEPLOY, STACKS_READ } from "@/components/stacks/permission-names";
import { StacksList } from "@/components/stacks/stacks-list";
import { ButtonLink } from "@/components/ui/button";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Stacks" };

export default async function StacksPage() {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, STACKS_READ)) return <Forbidden what="Stacks need the stacks.read permission." />;
  const canDeploy = hasPermission(viewer, STACKS_DEPLOY);
  return (
    <>
      <PageHeader
        title="Stacks"
        description="Multi-container apps from a compose file, deployed, updated and rolled back per host under its deploy policy."
        actions={
          canDeploy ? (
            <ButtonLink href="/stacks/new">New stack</ButtonLink>
          ) : (
            <span className="text-xs text-slate-500">Creating a stack needs the stacks.deploy permission.</span>
          )
        }
      />
      {/* What the page may show; the server checks every call again. */}
      <StacksList read={hostCoverage(viewer, STACKS_READ)} canDeploy={canDeploy} />
    </>
  );
}
