import type { Metadata } from "next";
import { SecretsView } from "@/components/secrets/secrets-view";
import { SECRETS_MANAGE } from "@/components/stacks/permission-names";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Secrets" };

export default async function SecretsPage() {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, SECRETS_MANAGE)) return <Forbidden what="You need the secrets.manage permission to see and change secrets." />;
  return (
    <>
      <PageHeader title="Secrets" description="Sealed values for stacks' secrets, mounted as files; never shown after saving." />
      <SecretsView />
    </>
  );
}
