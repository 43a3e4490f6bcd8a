import type { Metadata } from "next";
import { ChannelsView } from "@/components/alerts/channels-view";
import { AlertsTabs } from "@/components/alerts/shared";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { requireViewer } from "@/server/auth/viewer";
import { alertsAccess } from "../access";

export const metadata: Metadata = { title: "Notification channels" };

export default async function AlertChannelsPage() {
  const viewer = await requireViewer();
  const access = alertsAccess(viewer);
  if (!access.manage) return <Forbidden what="Notification channels need the alerts.manage permission." />;
  return (
    <>
      <PageHeader title="Alerts" description="Where notifications go: generic webhooks (signed), Slack-compatible incoming webhooks and email over SMTP." />
      <AlertsTabs show={access.tabs} />
      <ChannelsView />
    </>
  );
}
