import type { Metadata } from "next";
import { RulesView } from "@/components/alerts/rules-view";
import { AlertsTabs } from "@/components/alerts/shared";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { requireViewer } from "@/server/auth/viewer";
import { alertsAccess, NEEDS_ALERTS_READ, requireAlertsRead } from "../access";

export const metadata: Metadata = { title: "Alert rules" };

export default async function AlertRulesPage() {
  const viewer = await requireViewer();
  const access = alertsAccess(viewer);
  if (!requireAlertsRead(access)) return <Forbidden what={NEEDS_ALERTS_READ} />;
  return (
    <>
      <PageHeader title="Alerts" description="Rules say what fires, where, after how long, and which channels hear of it." />
      <AlertsTabs show={access.tabs} />
      <RulesView canManage={access.manage} />
    </>
  );
}
