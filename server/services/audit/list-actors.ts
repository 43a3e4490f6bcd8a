import "server-only";
import type { Db } from "../../db";

/** Users to offer in the Audit page's actor filter. */
export function listAuditActors(db: Db) {
  return db.user.findMany({ select: { id: true, email: true }, orderBy: { email: "asc" }, take: 500 });
}
