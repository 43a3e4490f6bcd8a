import type { Metadata } from "next";
import { FleetOverview, Tile } from "@/components/dashboard/fleet-overview";
import { RecentActivity } from "@/components/dashboard/recent-activity";
import { PageHeader } from "@/components/ui/card";
import { requireViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";
import { getDashboardSummary } from "@/server/services/dashboard/get-summary";

export const metadata: Metadata = { title: "Dashboard" };

export default async function DashboardPage() {
  const viewer = await requireViewer();
  const { can, users, events } = await getDashboardSummary(db(), viewer);
  const extra = [
    users !== null ? { label: "Users", value: users, href: "/users", hint: "People who can sign in.", testId: "tile-users" } : null,
    events !== null ? { label: "Audit events", value: events, href: "/audit", hint: "Every change and denial, hash-chained.", testId: "tile-events" } : null,
  ].filter((t) => t !== null);
  return (
    <>
      <PageHeader title="Dashboard" description={`Signed in as ${viewer.user.email}.`} />
      <div className="space-y-6">
        {can.readHosts ? (
          <FleetOverview canAddHosts={can.addHosts} canReadContainers={can.readContainers} />
        ) : (
          <p className="text-sm text-slate-600 dark:text-slate-400">Your role doesn&apos;t include hosts.read, so there is no fleet to show here.</p>
        )}
        {can.readAudit ? <RecentActivity /> : null}
        {extra.length ? (
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            {extra.map((t) => (
              <Tile key={t.label} label={t.label} value={String(t.value)} href={t.href} hint={t.hint} testId={t.testId} />
            ))}
          </div>
        ) : null}
      </div>
    </>
  );
}
