import "server-only";
import type { Viewer } from "../../auth/access";
import { queryAuditPage, type AuditPageInput } from "../../audit/query";
import type { Db } from "../../db";
import type { FleetAccess } from "../service-deps";
import { nameAuditTargets, type ContainerLists } from "./name-targets";

/** A page of audit events; ids as strings (they are bigints). */
export async function listAuditEvents(o: { db: Db; query: AuditPageInput }) {
  const page = await queryAuditPage(o.db, o.query);
  return { ...page, events: page.events.map((e) => ({ ...e, id: e.id.toString() })) };
}

/** The console's page: a page of events plus readable names (and links) for its targets and hosts. */
export async function getAuditPage(o: { db: Db; viewer: Viewer; fleet: FleetAccess; query: AuditPageInput }) {
  const page = await listAuditEvents(o);
  // Names of containers no deployment knows come from the fleet's last lists (in memory; no host is contacted).
  const fleet = await o.fleet().then((s) => s.fleet, () => null);
  const containersOf: ContainerLists = (hostId) => fleet?.snapshot(hostId).containers ?? null;
  const names = await nameAuditTargets(o.db, o.viewer, page.events, containersOf);
  return { ...page, names };
}
