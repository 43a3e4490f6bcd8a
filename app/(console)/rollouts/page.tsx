import type { Metadata } from "next";
import { RolloutsPage } from "@/components/rollouts/rollouts-page";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Rollouts" };

export default async function RolloutsRoute({ searchParams }: { searchParams: Promise<{ tab?: string | string[] }> }) {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "containers.read") && !hasPermission(viewer, "stacks.read")) {
    return <Forbidden what="Rollouts need the containers.read or stacks.read permission." />;
  }
  const { tab } = await searchParams;
  return (
    <>
      <PageHeader
        title="Rollouts"
        description="Every update of a deployment or a stack across the fleet: from the console, the API, a webhook, registry watching or a roll back."
      />
      <RolloutsPage initialTab={typeof tab === "string" ? tab : undefined} />
    </>
  );
}
