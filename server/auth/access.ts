import "server-only";
import type { Db } from "../db";
import { AppError } from "../errors";
import { isPermission, OWNER_ROLE, PERMISSIONS, type Permission } from "../../lib/permissions";

// Pure access logic: who may do what where. Everything here fails closed:
// asked about nobody (a page or procedure that forgot to require a viewer),
// it throws a typed UNAUTHORIZED rather than crashing on a missing object.

export type Scope = { type: "global" } | { type: "hostGroup"; id: string } | { type: "host"; id: string };

export interface Grant {
  role: string;
  permissions: ReadonlySet<Permission>;
  scope: Scope;
}

export interface ViewerUser {
  id: string;
  email: string;
  name: string | null;
}

export interface Viewer {
  user: ViewerUser;
  sessionId: string | null;
  grants: Grant[];
}

export interface HostRef {
  id: string;
  hostGroupId: string | null;
}

export function scopeKey(scope: Scope): string {
  return scope.type === "global" ? "global" : `${scope.type}:${scope.id}`;
}

/** The viewer's grants; no viewer is UNAUTHORIZED. Every question below starts here. */
function grantsOf(viewer: Viewer | null | undefined): Grant[] {
  if (!viewer) throw new AppError("UNAUTHORIZED", "Sign in first.");
  return viewer.grants;
}

function grantsWith(viewer: Viewer, permission: Permission): Grant[] {
  return grantsOf(viewer).filter((g) => g.permissions.has(permission));
}

/** A permission held everywhere (the only way to hold a global-only permission). */
export function hasGlobal(viewer: Viewer, permission: Permission): boolean {
  return grantsWith(viewer, permission).some((g) => g.scope.type === "global");
}

/**
 * Whether the viewer holds the permission at all. For global-only permissions
 * that means a global binding; for host permissions, a binding on any scope
 * (callers then narrow to what that scope covers); for "self" permissions, a
 * binding on any scope.
 */
export function hasPermission(viewer: Viewer, permission: Permission): boolean {
  grantsOf(viewer);
  if (!isPermission(permission)) return false;
  if (PERMISSIONS[permission].scope === "global") return hasGlobal(viewer, permission);
  return grantsWith(viewer, permission).length > 0;
}

/** Where a role would be granted: a binding's scope, with a host's group resolved (a grant on the group covers the host). */
export type GrantTarget = { type: "global" } | { type: "hostGroup"; id: string } | { type: "host"; id: string; hostGroupId: string | null };

/**
 * Whether the viewer holds the permission over all of `target`: what they may
 * hand out there. A host permission counts when held everywhere, on the group,
 * or (for a host) on the host or its group; a global one only when held
 * everywhere, wherever the target; a "self" one when held at all.
 */
export function holdsOn(viewer: Viewer, permission: string, target: GrantTarget): boolean {
  grantsOf(viewer);
  if (!isPermission(permission)) return false;
  const kind = PERMISSIONS[permission].scope;
  if (kind === "global") return hasGlobal(viewer, permission);
  if (kind === "self") return hasPermission(viewer, permission);
  return grantsWith(viewer, permission).some(
    (g) =>
      g.scope.type === "global" ||
      (target.type === "hostGroup" && g.scope.type === "hostGroup" && g.scope.id === target.id) ||
      (target.type === "host" &&
        ((g.scope.type === "host" && g.scope.id === target.id) ||
          (g.scope.type === "hostGroup" && target.hostGroupId !== null && g.scope.id === target.hostGroupId))),
  );
}

/**
 * The permissions of `permissions` the viewer doesn't hold over `target`, sorted.
 * Empty means granting them there hands out nothing the viewer lacks: the rule
 * for role bindings, role contents and user changes ("grant only what you hold,
 * within your scope"). An unknown permission string is always missing.
 */
export function missingOn(viewer: Viewer, permissions: Iterable<string>, target: GrantTarget): string[] {
  grantsOf(viewer);
  return [...new Set(permissions)].filter((p) => !holdsOn(viewer, p, target)).sort();
}

export function canOnHost(viewer: Viewer, permission: Permission, host: HostRef): boolean {
  grantsOf(viewer);
  if (!isPermission(permission) || PERMISSIONS[permission].scope !== "host") return false;
  return grantsWith(viewer, permission).some(
    (g) =>
      g.scope.type === "global" ||
      (g.scope.type === "host" && g.scope.id === host.id) ||
      (g.scope.type === "hostGroup" && host.hostGroupId !== null && g.scope.id === host.hostGroupId),
  );
}

/** Refuses (FORBIDDEN) unless the viewer holds the permission everywhere; `what` names the action ("Adding hosts"). */
export function requireGlobal(viewer: Viewer, permission: Permission, what: string): void {
  if (!hasGlobal(viewer, permission)) throw new AppError("FORBIDDEN", `${what} needs ${permission} everywhere.`);
}

/** Refuses (FORBIDDEN) unless the viewer holds the permission on the host; a missing host is refused alike (no lookup by id alone). */
export function requireOnHost(viewer: Viewer, permission: Permission, host: HostRef | null | undefined, message?: string): asserts host is HostRef {
  if (!host || !canOnHost(viewer, permission, host)) throw new AppError("FORBIDDEN", message ?? `You need the ${permission} permission on this host.`);
}

/** What a host permission covers, for filtering lists. */
export interface HostCoverage {
  all: boolean;
  hostIds: string[];
  hostGroupIds: string[];
}

export function hostCoverage(viewer: Viewer, permission: Permission): HostCoverage {
  const grants = grantsWith(viewer, permission);
  return {
    all: grants.some((g) => g.scope.type === "global"),
    hostIds: grants.flatMap((g) => (g.scope.type === "host" ? [g.scope.id] : [])),
    hostGroupIds: grants.flatMap((g) => (g.scope.type === "hostGroup" ? [g.scope.id] : [])),
  };
}

export function isOwner(viewer: Viewer): boolean {
  return grantsOf(viewer).some((g) => g.role === OWNER_ROLE && g.scope.type === "global");
}

/** Permissions the viewer holds somewhere, for the console's navigation. */
export function heldPermissions(viewer: Viewer): Permission[] {
  const held = new Set<Permission>();
  for (const g of grantsOf(viewer)) for (const p of g.permissions) if (hasPermission(viewer, p)) held.add(p);
  return [...held].sort();
}

export async function loadGrants(db: Db, userId: string): Promise<Grant[]> {
  const bindings = await db.roleBinding.findMany({ where: { userId }, include: { role: true } });
  return bindings.map((b) => ({
    role: b.role.name,
    permissions: new Set(b.role.permissions.filter(isPermission)),
    scope:
      b.scopeType === "global"
        ? { type: "global" }
        : b.scopeType === "hostGroup" && b.hostGroupId
          ? { type: "hostGroup", id: b.hostGroupId }
          : b.scopeType === "host" && b.hostId
            ? { type: "host", id: b.hostId }
            : // A binding whose scope row is missing grants nothing.
              { type: "host", id: "\u0000none" },
  }));
}
