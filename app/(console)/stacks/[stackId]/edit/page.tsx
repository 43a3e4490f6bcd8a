import type { Metadata } from "next";
import { EditStack } from "@/components/stacks/edit-stack";
import { STACKS_DEPLOY } from "@/components/stacks/permission-names";
import { Forbidden } from "@/components/ui/card";
import { hasPermission, hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Edit stack" };

export default async function EditStackPage({ params }: { params: Promise<{ stackId: string }> }) {
  const { stackId } = await params;
  const viewer = await requireViewer();
  if (!hasPermission(viewer, STACKS_DEPLOY)) return <Forbidden what="Editing a stack needs the stacks.deploy permission." />;
  return <EditStack stackId={decodeURIComponent(stackId)} deploy={hostCoverage(viewer, STACKS_DEPLOY)} />;
}
