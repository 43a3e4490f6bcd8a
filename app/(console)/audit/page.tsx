import type { Metadata } from "next";
import { AuditView } from "@/components/audit/audit-view";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Audit" };

export default async function AuditPage() {
  const viewer = await requireViewer();
  if (!hasPermission(viewer, "audit.read")) return <Forbidden what="The audit log needs the audit.read permission." />;
  return (
    <>
      <PageHeader title="Audit log" description="Every change, sign-in and denial, newest first. The log is append-only and hash-chained." />
      <AuditView canExport={hasPermission(viewer, "audit.export")} />
    </>
  );
}
