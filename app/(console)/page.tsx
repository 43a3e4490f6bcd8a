import type { Metadata } from "next";
import Link from "next/link";
import { Card, PageHeader } from "@/components/ui/card";
import { getViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";
import { getDashboardSummary } from "@/server/services/dashboard/get-summary";

export const metadata: Metadata = { title: "Dashboard" };

export default async function DashboardPage() {
  const viewer = (await getViewer())!;
  const { hosts, users, events } = await getDashboardSummary(db(), viewer);
  const tiles = [
    { label: "Hosts", value: hosts, href: "/hosts", hint: "Add a host over SSH to start deploying." },
    { label: "Users", value: users, href: "/users", hint: "People who can sign in." },
    { label: "Audit events", value: events, href: "/audit", hint: "Every change and denial, hash-chained." },
  ].filter((t) => t.value !== null);
  return (
    <>
      <PageHeader title="Dashboard" description={`Signed in as ${viewer.user.email}.`} />
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {tiles.map((t) => (
          <Card key={t.label}>
            <Link href={t.href} className="block">
              <div className="text-sm text-slate-600 dark:text-slate-400">{t.label}</div>
              <div className="mt-1 text-3xl font-semibold">{t.value}</div>
              <div className="mt-2 text-xs text-slate-500">{t.hint}</div>
            </Link>
          </Card>
        ))}
      </div>
    </>
  );
}
