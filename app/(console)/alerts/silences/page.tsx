import type { Metadata } from "next";
import { SilencesView } from "@/components/alerts/silences-view";
import { AlertsTabs } from "@/components/alerts/shared";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { requireViewer } from "@/server/auth/viewer";
import { alertsAccess, NEEDS_ALERTS_READ, requireAlertsRead } from "../access";

export const metadata: Metadata = { title: "Silences" };

export default async function SilencesPage({ searchParams }: { searchParams: Promise<{ ruleId?: string | string[]; scope?: string | string[] }> }) {
  const viewer = await requireViewer();
  const access = alertsAccess(viewer);
  if (!requireAlertsRead(access)) return <Forbidden what={NEEDS_ALERTS_READ} />;
  const { ruleId, scope } = await searchParams;
  return (
    <>
      <PageHeader title="Alerts" description="A silence holds back notifications of matching alerts until it ends; the alerts still show here." />
      <AlertsTabs show={access.tabs} />
      <SilencesView
        silence={access.silence}
        canSilence={access.canSilence}
        preset={{ ruleId: typeof ruleId === "string" ? ruleId : "", scopeKey: typeof scope === "string" ? scope : "" }}
      />
    </>
  );
}
