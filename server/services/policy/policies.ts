import type { Db } from "../../db";
import { DEFAULT_POLICY, deployPolicySchema, type DeployPolicy } from "../../policy/rules";

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

export async function setPolicy(db: Db, hostGroupId: string | null, rules: DeployPolicy, userId: string): Promise<DeployPolicy> {
  const scopeKey = policyScopeKey(hostGroupId);
  await db.deployPolicy.upsert({
    where: { scopeKey },
    create: { scopeKey, hostGroupId, rules, updatedById: userId },
    update: { rules, updatedById: userId },
  });
  return rules;
}
