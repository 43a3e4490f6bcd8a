import "server-only";
import type { Db } from "../../db";
import { hasGlobal, hasPermission, hostCoverage, type Viewer } from "../../auth/access";
import { listHosts } from "../hosts/list-hosts";

/**
 * What the dashboard may show this viewer, and the counts that come from the
 * database alone. Live fleet state (connected, containers, samples) comes to
 * the page through hosts.overview and hosts.live, which check again.
 */
export async function getDashboardSummary(db: Db, viewer: Viewer) {
  const can = {
    readHosts: hasPermission(viewer, "hosts.read"),
    // Adding a host can't be scoped to a host that doesn't exist yet.
    addHosts: hasGlobal(viewer, "hosts.manage"),
    readContainers: hasPermission(viewer, "containers.read"),
    readAudit: hasPermission(viewer, "audit.read"),
    manageUsers: hasPermission(viewer, "users.manage"),
  };
  const [hosts, users, events] = await Promise.all([
    can.readHosts ? listHosts(db, hostCoverage(viewer, "hosts.read")).then((h) => h.length) : null,
    can.manageUsers ? db.user.count() : null,
    can.readAudit ? db.auditEvent.count() : null,
  ]);
  return { can, hosts, users, events };
}

export type DashboardSummary = Awaited<ReturnType<typeof getDashboardSummary>>;
