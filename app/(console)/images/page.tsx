import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState, Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { getViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Images" };

export default async function ImagesPage() {
  const viewer = (await getViewer())!;
  if (!hasPermission(viewer, "images.read")) return <Forbidden what="Images need the images.read permission." />;
  return (
    <>
      <PageHeader title="Images" description="Images pulled or built on your hosts." />
      <EmptyState
        title="No images yet"
        action={
          <Link href="/hosts" className="text-sm font-medium text-sky-700 underline dark:text-sky-400">
            Go to Hosts
          </Link>
        }
      >
        Images are listed per host. Connect a host, then pull an image or deploy one and it shows up here.
      </EmptyState>
    </>
  );
}
