import type { Metadata } from "next";
import { AlertDetailView } from "@/components/alerts/alert-detail";
import { AlertsTabs } from "@/components/alerts/shared";
import { Forbidden } from "@/components/ui/card";
import { hostCoverage } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";
import { alertsAccess, NEEDS_ALERTS_READ, requireAlertsRead } from "../access";

export const metadata: Metadata = { title: "Alert" };

export default async function AlertPage({ params }: { params: Promise<{ alertId: string }> }) {
  const { alertId } = await params;
  const viewer = await requireViewer();
  const access = alertsAccess(viewer);
  if (!requireAlertsRead(access)) return <Forbidden what={NEEDS_ALERTS_READ} />;
  return (
    <>
      <AlertsTabs show={access.tabs} />
      <AlertDetailView alertId={decodeURIComponent(alertId)} silence={access.silence} logs={hostCoverage(viewer, "containers.logs")} />
    </>
  );
}
