import type { Metadata } from "next";
import { Card, PageHeader } from "@/components/ui/card";
import { heldPermissions } from "@/server/auth/access";
import { getViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const viewer = (await getViewer())!;
  return (
    <>
      <PageHeader title="Settings" description="Your account. API tokens and registry credentials arrive in later releases." />
      <Card title="Your account">
        <dl className="grid gap-2 text-sm sm:grid-cols-[12rem_1fr]">
          <dt className="text-slate-500">Email</dt>
          <dd>{viewer.user.email}</dd>
          <dt className="text-slate-500">Roles</dt>
          <dd>
            {viewer.grants.length
              ? viewer.grants.map((g) => `${g.role} (${g.scope.type === "global" ? "everywhere" : `${g.scope.type} ${g.scope.id}`})`).join(", ")
              : "None"}
          </dd>
          <dt className="text-slate-500">Permissions</dt>
          <dd className="font-mono text-xs">{heldPermissions(viewer).join(" · ") || "None"}</dd>
        </dl>
      </Card>
    </>
  );
}
