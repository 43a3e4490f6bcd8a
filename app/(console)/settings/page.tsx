import type { Metadata } from "next";
import { RegistriesSection } from "@/components/settings/registries-section";
import { TokensPanel } from "@/components/tokens/tokens-panel";
import { Card, PageHeader } from "@/components/ui/card";
import { hasPermission, heldPermissions } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const viewer = await requireViewer();
  const canManageRegistries = hasPermission(viewer, "registries.manage");
  return (
    <>
      <PageHeader title="Settings" description="Your account, your API tokens, and the registries Berth pulls from and pushes to." />
      <div className="space-y-6">
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
        {canManageRegistries ? (
          <RegistriesSection />
        ) : (
          <Card title={<span id="registries">Registries</span>}>
            <p className="text-sm text-slate-600 dark:text-slate-400">
              Saved registry credentials are managed by users with the registries.manage permission. Ask an Owner or Admin to add one; you can still pick
              saved registries when you pull or push, if your role allows those.
            </p>
          </Card>
        )}
        {hasPermission(viewer, "tokens.manage") ? <TokensPanel /> : null}
      </div>
    </>
  );
}
