import type { Db } from "../../db";
import { isOwner, type Viewer } from "../../auth/access";
import { OWNER_ROLE } from "../../auth/permissions";
import { AppError } from "../../errors";

export async function isUserOwner(db: Db, userId: string): Promise<boolean> {
  const n = await db.roleBinding.count({ where: { userId, scopeType: "global", role: { name: OWNER_ROLE } } });
  return n > 0;
}

/** Only an Owner may change another Owner. */
export async function assertMayChangeUser(db: Db, viewer: Viewer, userId: string): Promise<void> {
  if (!isOwner(viewer) && (await isUserOwner(db, userId))) {
    throw new AppError("FORBIDDEN", "Only an Owner can change another Owner.");
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
