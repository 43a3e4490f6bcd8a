import "server-only";
import { canOnHost, hasPermission, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import type { ContainerSummary } from "../../fleet/agent/types";

// Readable names for the targets and hosts on a page of audit events: the
// user's email instead of their id, a host's or container's name, with a link
// to where it is shown. A host, container or deployment is named (and linked)
// only for a viewer who may read it there; otherwise the id stays.

export interface TargetName {
  label: string;
  href: string | null;
}

/** Keyed `${type}:${id}`; hosts of events as `host:${id}`. */
export type TargetNames = Record<string, TargetName>;

interface EventRef {
  targetType: string | null;
  targetId: string | null;
  hostId: string | null;
}

/** Live container lists the fleet already holds (no host is contacted), by host id. */
export type ContainerLists = (hostId: string) => ContainerSummary[] | null;

const key = (type: string, id: string) => `${type}:${id}`;

export async function nameAuditTargets(db: Db, viewer: Viewer, events: EventRef[], containersOf: ContainerLists = () => null): Promise<TargetNames> {
  const ids = (type: string) => [...new Set(events.filter((e) => e.targetType === type && e.targetId).map((e) => e.targetId!))];
  const hostIds = [...new Set([...ids("host"), ...events.map((e) => e.hostId).filter((h): h is string => Boolean(h))])];
  const [users, hosts, roles, tokens, registries, deployments, groups] = await Promise.all([
    db.user.findMany({ where: { id: { in: ids("user") } }, select: { id: true, email: true } }),
    db.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, name: true, hostGroupId: true } }),
    db.role.findMany({ where: { id: { in: ids("role") } }, select: { id: true, name: true } }),
    db.apiToken.findMany({ where: { id: { in: ids("apiToken") } }, select: { id: true, name: true } }),
    db.registry.findMany({ where: { id: { in: ids("registry") } }, select: { id: true, name: true } }),
    db.deployment.findMany({
      where: { OR: [{ id: { in: ids("deployment") } }, { containerId: { in: ids("container") } }] },
      select: { id: true, name: true, hostId: true, containerId: true },
    }),
    db.hostGroup.findMany({ where: { id: { in: [...ids("deployPolicy"), ...ids("hostGroup")] } }, select: { id: true, name: true } }),
  ]);

  const names: TargetNames = {};
  const hostById = new Map(hosts.map((h) => [h.id, h]));
  const mayRead = (permission: "hosts.read" | "containers.read", hostId: string | null) => {
    const host = hostId ? hostById.get(hostId) : undefined;
    return host !== undefined && canOnHost(viewer, permission, host);
  };
  const containerHref = (hostId: string, containerId: string) => `/containers/${encodeURIComponent(hostId)}/${encodeURIComponent(containerId)}`;

  for (const u of users) names[key("user", u.id)] = { label: u.email, href: hasPermission(viewer, "users.manage") ? "/users" : null };
  for (const h of hosts) if (mayRead("hosts.read", h.id)) names[key("host", h.id)] = { label: h.name, href: `/hosts/${encodeURIComponent(h.id)}` };
  for (const r of roles) names[key("role", r.id)] = { label: r.name, href: hasPermission(viewer, "users.manage") ? "/users" : null };
  for (const t of tokens) names[key("apiToken", t.id)] = { label: t.name, href: null };
  for (const r of registries) names[key("registry", r.id)] = { label: r.name, href: null };
  for (const g of groups) {
    names[key("deployPolicy", g.id)] = { label: `policy of ${g.name}`, href: "/policy" };
    names[key("hostGroup", g.id)] = { label: g.name, href: "/hosts" };
  }
  for (const d of deployments) {
    if (!mayRead("containers.read", d.hostId)) continue;
    const href = d.containerId ? containerHref(d.hostId, d.containerId) : null;
    names[key("deployment", d.id)] = { label: d.name, href };
    if (d.containerId) names[key("container", d.containerId)] = { label: d.name, href };
  }
  // Containers no deployment names: the fleet's last list of the event's host (by id, id prefix or name).
  for (const e of events) {
    if (e.targetType !== "container" || !e.targetId || !e.hostId || names[key("container", e.targetId)]) continue;
    if (!mayRead("containers.read", e.hostId)) continue;
    const id = e.targetId;
    const found = containersOf(e.hostId)?.find((c) => c.Id === id || (id.length >= 12 && c.Id.startsWith(id)) || c.Names.includes(`/${id}`));
    if (found) names[key("container", id)] = { label: found.Names[0]?.replace(/^\//, "") ?? found.Id.slice(0, 12), href: containerHref(e.hostId, found.Id) };
  }
  return names;
}
