import "server-only";
import { hostCoverage, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { coveredHosts } from "../hosts/list-hosts";

/** Hosts to offer in the Audit page's host filter: the ones the viewer may read. */
export function listAuditHosts(db: Db, viewer: Viewer) {
  return db.host.findMany({ where: coveredHosts(hostCoverage(viewer, "hosts.read")), select: { id: true, name: true }, orderBy: { name: "asc" }, take: 1000 });
}
