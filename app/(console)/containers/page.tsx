import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState, Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { getViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Containers" };

export default async function ContainersPage() {
  const viewer = (await getViewer())!;
  if (!hasPermission(viewer, "containers.read")) return <Forbidden what="Containers need the containers.read permission." />;
  return (
    <>
      <PageHeader title="Containers" description="Everything running on your hosts." />
      <EmptyState
        title="No containers yet"
        action={
          <Link href="/hosts" className="text-sm font-medium text-sky-700 underline dark:text-sky-400">
            Go to Hosts
          </Link>
        }
      >
        Containers appear here once a host is connected. Add a host first, then deploy an image to it with the deploy form.
      </EmptyState>
    </>
  );
}
