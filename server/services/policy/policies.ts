import "server-only";
import { holdsOn, hostCoverage, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { DEFAULT_POLICY, deployPolicySchema, type DeployPolicy } from "../../../lib/policy/rules";

// Where deploy policies live: one per host group, plus a default for hosts in
// no group. No row means the safe defaults.

export function policyScopeKey(hostGroupId: string | null): string {
  return hostGroupId ? `hostGroup:${hostGroupId}` : "default";
}

export async function getPolicy(db: Db, hostGroupId: string | null): Promise<DeployPolicy> {
  const row = await db.deployPolicy.findUnique({ where: { scopeKey: policyScopeKey(hostGroupId) } });
  if (!row) return DEFAULT_POLICY;
  // A stored policy that no longer parses (a rule removed, say) falls back to the safe defaults, never to "allow".
  const parsed = deployPolicySchema.safeParse(row.rules);
  return parsed.success ? parsed.data : DEFAULT_POLICY;
}

/**
 * Whether the viewer may read the policy of a host group (null: the default,
 * for hosts in no group): they see hosts it governs. That is hosts.read or
 * hosts.manage everywhere, on the group, or on a host in it.
 */
export async function mayReadPolicy(db: Db, viewer: Viewer, hostGroupId: string | null): Promise<boolean> {
  const hostIds: string[] = [];
  for (const permission of ["hosts.read", "hosts.manage"] as const) {
    const c = hostCoverage(viewer, permission);
    if (c.all || (hostGroupId !== null && c.hostGroupIds.includes(hostGroupId))) return true;
    hostIds.push(...c.hostIds);
  }
  return hostIds.length > 0 && (await db.host.count({ where: { id: { in: hostIds }, hostGroupId } })) > 0;
}

/** A policy for someone to look at: refused (an unknown group too) unless they see a host it governs. */
export async function getPolicyForViewer({ db, viewer, hostGroupId }: { db: Db; viewer: Viewer; hostGroupId: string | null }): Promise<DeployPolicy> {
  if (!(await mayReadPolicy(db, viewer, hostGroupId))) {
    throw new AppError(
      "FORBIDDEN",
      hostGroupId
        ? "You need the hosts.read permission on this host group (or on a host in it) to see its deploy policy."
        : "You need the hosts.read permission everywhere (or on a host in no group) to see the default deploy policy.",
    );
  }
  return getPolicy(db, hostGroupId);
}

/**
 * Saves a host group's policy (null: the default, for hosts in no group). The
 * default takes hosts.manage everywhere; a group's, hosts.manage on that group.
 */
export async function setPolicy(o: { db: Db; viewer: Viewer; hostGroupId: string | null; rules: DeployPolicy }): Promise<DeployPolicy> {
  const { db, viewer, hostGroupId, rules } = o;
  if (!holdsOn(viewer, "hosts.manage", hostGroupId ? { type: "hostGroup", id: hostGroupId } : { type: "global" })) {
    throw new AppError("FORBIDDEN", "You need the hosts.manage permission on this host group.");
  }
  if (hostGroupId && !(await db.hostGroup.findUnique({ where: { id: hostGroupId } }))) {
    throw new AppError("NOT_FOUND", "No such host group.");
  }
  const scopeKey = policyScopeKey(hostGroupId);
  await db.deployPolicy.upsert({
    where: { scopeKey },
    create: { scopeKey, hostGroupId, rules, updatedById: viewer.user.id },
    update: { rules, updatedById: viewer.user.id },
  });
  return rules;
}
