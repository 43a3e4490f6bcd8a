import type { Metadata } from "next";
import { AlertsList } from "@/components/alerts/alerts-list";
import { AlertsTabs } from "@/components/alerts/shared";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { requireViewer } from "@/server/auth/viewer";
import { alertsAccess, NEEDS_ALERTS_READ, requireAlertsRead } from "./access";

export const metadata: Metadata = { title: "Alerts" };

export default async function AlertsPage() {
  const viewer = await requireViewer();
  const access = alertsAccess(viewer);
  if (!requireAlertsRead(access)) return <Forbidden what={NEEDS_ALERTS_READ} />;
  return (
    <>
      <PageHeader title="Alerts" description="What fires now and what fired before, on the hosts you can see: each alert's subject, timeline, deliveries and silences." />
      <AlertsTabs show={access.tabs} />
      <AlertsList canVerifyAudit={access.canVerifyAudit} canManage={access.manage} />
    </>
  );
}
