import type { Db } from "../../db";
import { hasPermission, hostCoverage, type Viewer } from "../../auth/access";
import { listHosts } from "../hosts/list-hosts";

/** Counts for the dashboard tiles; each only if the viewer may see it. */
export async function getDashboardSummary(db: Db, viewer: Viewer) {
  const [hosts, users, events] = await Promise.all([
    hasPermission(viewer, "hosts.read") ? listHosts(db, hostCoverage(viewer, "hosts.read")).then((h) => h.length) : null,
    hasPermission(viewer, "users.manage") ? db.user.count() : null,
    hasPermission(viewer, "audit.read") ? db.auditEvent.count() : null,
  ]);
  return { hosts, users, events };
}
