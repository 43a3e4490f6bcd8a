import "server-only";
import { canOnHost, hasPermission, type HostRef, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import { PERMISSIONS, type Permission } from "../../lib/permissions";
import { ShortCache } from "./short-cache";

// The authorise step: a permission, and where it must be held (a host, by
// its own scope and its group's). Pure checks plus the host lookup; the
// entry point words the denial and Admission.authorise audits it.

/** Permissions granted per host (not global-only, not "self"): holding any of them on a host lets a caller name it. */
export const HOST_PERMISSIONS: readonly Permission[] = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => PERMISSIONS[p].scope === "host");

export interface HostRow extends HostRef {
  name: string;
}

/** Of `wanted`, what the viewer lacks: on the host when one is given, anywhere otherwise. Fails closed (no host: everything). */
export function missingPermissions(viewer: Viewer, wanted: readonly Permission[], host?: HostRef | null): Permission[] {
  if (host === null) return [...wanted];
  return wanted.filter((p) => (host ? !canOnHost(viewer, p, host) : !hasPermission(viewer, p)));
}

/**
 * The authorise step for a route whose own record notes the denial (REST:
 * restRoute audits it with the route's action): FORBIDDEN unless held.
 */
export function requirePermission(viewer: Viewer, permission: Permission): void {
  if (missingPermissions(viewer, [permission]).length) throw new AppError("FORBIDDEN", `You need the ${permission} permission.`);
}

/** Whether the viewer may do anything on the host: one outside their scope is answered as if it didn't exist. */
export function mayUseHost(viewer: Viewer, host: HostRef | null): host is HostRef {
  return host !== null && HOST_PERMISSIONS.some((p) => canOnHost(viewer, p, host));
}

export interface HostFinderOptions {
  /** Also by name (the docker CLI's DOCKER_HOST names a host either way); the id wins. */
  byName: boolean;
  /** Remember answers for up to 1 s (dropped at once on any access change: a host moved or removed). */
  cache: boolean;
}

/** The host a request names, or null. */
export function createHostFinder(db: () => Db, o: HostFinderOptions): (ref: string) => Promise<HostRow | null> {
  const cache = o.cache ? new ShortCache<HostRow>() : null;
  const select = { id: true, name: true, hostGroupId: true } as const;
  return async (ref) => {
    const known = cache?.get(ref);
    if (known) return known;
    const generation = cache?.generation() ?? 0;
    let host: HostRow | null;
    if (o.byName) {
      const rows = await db().host.findMany({ where: { OR: [{ id: ref }, { name: ref }] }, select, take: 2 });
      host = rows.find((h) => h.id === ref) ?? rows[0] ?? null;
    } else {
      host = await db().host.findUnique({ where: { id: ref }, select });
    }
    if (host) cache?.set(ref, host, generation);
    return host;
  };
}
