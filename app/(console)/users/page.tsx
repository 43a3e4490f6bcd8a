import type { Metadata } from "next";
import { Forbidden, PageHeader } from "@/components/ui/card";
import { UsersView } from "@/components/users/users-view";
import { hasPermission } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";

export const metadata: Metadata = { title: "Users & roles" };

export default async function UsersPage() {
  const viewer = await requireViewer();
  const canManageUsers = hasPermission(viewer, "users.manage");
  const canManageRoles = hasPermission(viewer, "roles.manage");
  if (!canManageUsers && !canManageRoles) return <Forbidden what="Users & roles need the users.manage or roles.manage permission." />;
  return (
    <>
      <PageHeader title="Users & roles" description="Who can sign in, and what each role allows where." />
      <UsersView canManageUsers={canManageUsers} canManageRoles={canManageRoles} />
    </>
  );
}
