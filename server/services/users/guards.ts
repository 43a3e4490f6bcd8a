import "server-only";
import type { Db } from "../../db";
import { isOwner, missingOn, type GrantTarget, type Scope, type Viewer } from "../../auth/access";
import { OWNER_ROLE } from "../../../lib/permissions";
import { AppError } from "../../errors";

// "Grant only what you hold, within your scope": users.manage lets its holder
// bind roles and change accounts, but never hand out (to anyone, themselves
// included) a permission they don't hold where it would apply. Taking over an
// account (its password) or removing its roles counts as acting with what it
// holds, so the same rule covers those. On top: only an Owner touches Owners.

export async function isUserOwner(db: Db, userId: string): Promise<boolean> {
  const n = await db.roleBinding.count({ where: { userId, scopeType: "global", role: { name: OWNER_ROLE } } });
  return n > 0;
}

/** A binding's scope. Its group or host row exists (bindings go with them); if one didn't, resolving it fails closed. */
export function scopeOfBinding(b: { scopeType: string; hostGroupId: string | null; hostId: string | null }): Scope {
  if (b.scopeType === "global") return { type: "global" };
  if (b.scopeType === "hostGroup") return { type: "hostGroup", id: b.hostGroupId ?? "" };
  return { type: "host", id: b.hostId ?? "" };
}

/** A scope as a grant target (a host's group resolved) and how to name it; NOT_FOUND when its group or host doesn't exist. */
export async function resolveGrantTarget(db: Db, scope: Scope): Promise<{ target: GrantTarget; label: string }> {
  if (scope.type === "global") return { target: { type: "global" }, label: "everywhere" };
  if (scope.type === "hostGroup") {
    const group = await db.hostGroup.findUnique({ where: { id: scope.id }, select: { id: true, name: true } });
    if (!group) throw new AppError("NOT_FOUND", "No such host group.");
    return { target: { type: "hostGroup", id: group.id }, label: `on host group ${group.name}` };
  }
  const host = await db.host.findUnique({ where: { id: scope.id }, select: { id: true, name: true, hostGroupId: true } });
  if (!host) throw new AppError("NOT_FOUND", "No such host.");
  return { target: { type: "host", id: host.id, hostGroupId: host.hostGroupId }, label: `on host ${host.name}` };
}

/** Refuses to grant or remove `role` on `target` when that would take a permission the viewer doesn't hold there. */
export function assertHoldsRole(
  viewer: Viewer,
  role: { name: string; permissions: string[] },
  where: { target: GrantTarget; label: string },
  verb: "grant" | "remove",
): void {
  if (role.name === OWNER_ROLE) {
    if (!isOwner(viewer)) throw new AppError("FORBIDDEN", `Only an Owner can ${verb} the Owner role.`);
    return;
  }
  const missing = missingOn(viewer, role.permissions, where.target);
  if (missing.length) {
    throw new AppError(
      "FORBIDDEN",
      `You can only ${verb} what you hold where it applies: ${role.name} ${where.label} includes ${missing.join(", ")}, which you don't hold there.`,
    );
  }
}

/**
 * Only an Owner may change another Owner, and only someone who holds
 * everything a user holds (where they hold it) may change that user: set
 * their password, disable them or change their roles.
 */
export async function assertMayChangeUser(db: Db, viewer: Viewer, userId: string): Promise<void> {
  if (!isOwner(viewer) && (await isUserOwner(db, userId))) {
    throw new AppError("FORBIDDEN", "Only an Owner can change another Owner.");
  }
  const bindings = await db.roleBinding.findMany({
    where: { userId },
    select: { scopeType: true, hostGroupId: true, hostId: true, role: { select: { permissions: true } }, host: { select: { hostGroupId: true } } },
  });
  const missing = new Set<string>();
  for (const b of bindings) {
    const scope = scopeOfBinding(b);
    const target: GrantTarget = scope.type === "host" ? { ...scope, hostGroupId: b.host?.hostGroupId ?? null } : scope;
    for (const p of missingOn(viewer, b.role.permissions, target)) missing.add(p);
  }
  if (missing.size) {
    throw new AppError(
      "FORBIDDEN",
      `This user holds ${[...missing].sort().join(", ")} where you don't: only someone who holds all of a user's permissions can change their account or roles.`,
    );
  }
}

/** Enabled users holding Owner globally, other than `exceptUserId`. */
export async function otherActiveOwners(db: Db, exceptUserId: string): Promise<number> {
  return db.user.count({
    where: {
      id: { not: exceptUserId },
      disabled: false,
      roleBindings: { some: { scopeType: "global", role: { name: OWNER_ROLE } } },
    },
  });
}
