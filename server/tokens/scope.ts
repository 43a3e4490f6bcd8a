import "server-only";
import type { Grant, Scope } from "../auth/access";
import { isPermission, PERMISSIONS, type Permission } from "../../lib/permissions";

// What a token may do: its owner's grants as they are now, narrowed to the
// token's permissions and host scope. Pure; the caller loads the grants and
// the host → group map. The result can only ever be a subset of the owner's
// grants, so a token loses whatever its owner loses.

/** Never through a token: a token minting tokens could shed its own limits. */
export const NEVER_BY_TOKEN: ReadonlySet<Permission> = new Set<Permission>(["tokens.manage"]);

export interface TokenScope {
  /** Empty: every permission the owner holds (except NEVER_BY_TOKEN). */
  permissions: readonly string[];
  /** Both empty: every host the owner covers. */
  hostIds: readonly string[];
  hostGroupIds: readonly string[];
}

/** Host id → its group, for every host the token or a grant names. A missing host covers nothing. */
export type HostGroups = ReadonlyMap<string, string | null>;

export function isHostScoped(scope: TokenScope): boolean {
  return scope.hostIds.length > 0 || scope.hostGroupIds.length > 0;
}

/** The permissions a token with this list may use (before intersecting with the owner's grants). */
export function tokenPermissions(list: readonly string[]): Set<Permission> {
  const wanted = list.length ? list.filter(isPermission) : (Object.keys(PERMISSIONS) as Permission[]);
  return new Set(wanted.filter((p) => !NEVER_BY_TOKEN.has(p)));
}

/** The hosts and groups a grant's scope and the token's scope both cover. */
function narrowScope(scope: Scope, token: TokenScope, hostGroups: HostGroups): Scope[] {
  const out: Scope[] = [];
  if (scope.type === "global") {
    for (const id of token.hostGroupIds) out.push({ type: "hostGroup", id });
    for (const id of token.hostIds) out.push({ type: "host", id });
  } else if (scope.type === "hostGroup") {
    if (token.hostGroupIds.includes(scope.id)) out.push(scope);
    // A host the token names, inside the group the grant covers.
    else for (const id of token.hostIds) if (hostGroups.has(id) && hostGroups.get(id) === scope.id) out.push({ type: "host", id });
  } else {
    const group = hostGroups.get(scope.id);
    if (token.hostIds.includes(scope.id) || (group != null && token.hostGroupIds.includes(group))) out.push(scope);
  }
  return out;
}

export function tokenGrants(owner: readonly Grant[], token: TokenScope, hostGroups: HostGroups): Grant[] {
  const allowed = tokenPermissions(token.permissions);
  const scoped = isHostScoped(token);
  const out: Grant[] = [];
  for (const grant of owner) {
    // A host-scoped token keeps host permissions only: a global one (users.manage, say) would reach past its hosts.
    const permissions = new Set(
      [...grant.permissions].filter((p) => allowed.has(p) && (!scoped || PERMISSIONS[p].scope === "host")),
    );
    if (!permissions.size) continue;
    // Renamed, so a token never counts as its owner's role (isOwner is false for every token).
    const role = `${grant.role} (token)`;
    const scopes = scoped ? narrowScope(grant.scope, token, hostGroups) : [grant.scope];
    for (const scope of scopes) out.push({ role, permissions, scope });
  }
  return out;
}
