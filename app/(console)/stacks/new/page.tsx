import type { Metadata } from "next";
import { STACKS_DEPLOY } from "@/components/stacks/permission-names";
import { StackEditor } from "@/components/stacks/stack-editor";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "New stack" };

export default async function NewStackPage({ searchParams }: { searchParams: Promise<{ host?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, STACKS_DEPLOY)) return <Forbidden what="Creating a stack needs the stacks.deploy permission." />;
  const { host } = await searchParams;
  return (
    <>
      <PageHeader
        title="New stack"
        description="Write or upload a compose file (and its .env). It is checked as you type, then against the host's deploy policy per service."
      />
      {/* Which hosts the editor offers; the server checks the permission and the policy again on apply. */}
      <StackEditor deploy={hostCoverage(viewer, STACKS_DEPLOY)} initialHostId={typeof host === "string" ? host : null} />
    </>
  );
}
