import "server-only";
import { canOnHost, holdsOn, requireOnHost, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { ApprovalRule } from "../generated/prisma/client";
import type { AuditNote } from "../pipeline/audit-log";
import type { ApprovalRuleView } from "../../lib/rollouts/views";

// Which hosts and host groups require approval. Setting or removing a rule
// needs hosts.manage on that host or group (a missing one is refused alike);
// the list shows the rules on what the viewer can read.

export type RuleScope = { hostId: string; hostGroupId?: undefined } | { hostGroupId: string; hostId?: undefined };

export const DEFAULT_EXPIRY_HOURS = 72;

/** Exactly one of hostId / hostGroupId, or a clear error. */
export function ruleScopeOf(input: { hostId?: string | null; hostGroupId?: string | null }): RuleScope {
  if (input.hostId && input.hostGroupId) throw new AppError("BAD_REQUEST", "Give either hostId or hostGroupId, not both: a rule is on one host or one host group.");
  if (input.hostId) return { hostId: input.hostId };
  if (input.hostGroupId) return { hostGroupId: input.hostGroupId };
  throw new AppError("BAD_REQUEST", "Give hostId or hostGroupId: the host or host group whose deploys need approval.");
}

function keyOf(scope: RuleScope): string {
  return scope.hostId ? `host:${scope.hostId}` : `hostGroup:${scope.hostGroupId}`;
}

/** Checks hosts.manage on the scope (a host or group that doesn't exist is refused alike) and returns its name. */
async function requireManage(db: Db, viewer: Viewer, scope: RuleScope): Promise<string> {
  const message = "You need the hosts.manage permission on this host or host group to change its approval rule.";
  if (scope.hostId) {
    const host = await db.host.findUnique({ where: { id: scope.hostId }, select: { id: true, name: true, hostGroupId: true } });
    requireOnHost(viewer, "hosts.manage", host, message);
    return host!.name;
  }
  const group = await db.hostGroup.findUnique({ where: { id: scope.hostGroupId }, select: { id: true, name: true } });
  if (!group || !holdsOn(viewer, "hosts.manage", { type: "hostGroup", id: group.id })) throw new AppError("FORBIDDEN", message);
  return group.name;
}

function ruleView(rule: ApprovalRule, name: string): ApprovalRuleView {
  return {
    id: rule.id,
    scope: rule.hostId ? { kind: "host", id: rule.hostId, name } : { kind: "hostGroup", id: rule.hostGroupId ?? "", name },
    expiryHours: rule.expiryHours,
    createdAt: rule.createdAt,
  };
}

export async function setApprovalRule(db: Db, viewer: Viewer, input: { hostId?: string | null; hostGroupId?: string | null; expiryHours: number }, audit?: AuditNote): Promise<ApprovalRuleView> {
  const scope = ruleScopeOf(input);
  const scopeKey = keyOf(scope);
  if (audit) {
    audit.target = { type: scope.hostId ? "host" : "hostGroup", id: scope.hostId ?? scope.hostGroupId };
    audit.hostId = scope.hostId ?? null;
  }
  const name = await requireManage(db, viewer, scope);
  const rule = await db.approvalRule.upsert({
    where: { scopeKey },
    create: { scopeKey, hostId: scope.hostId ?? null, hostGroupId: scope.hostGroupId ?? null, expiryHours: input.expiryHours, createdById: viewer.user.id },
    update: { expiryHours: input.expiryHours },
  });
  return ruleView(rule, name);
}

export async function removeApprovalRule(db: Db, viewer: Viewer, input: { id?: string | null; hostId?: string | null; hostGroupId?: string | null }, audit?: AuditNote): Promise<{ ok: true }> {
  let rule: ApprovalRule | null;
  let scope: RuleScope;
  if (input.id) {
    rule = await db.approvalRule.findUnique({ where: { id: input.id } });
    if (!rule) throw new AppError("NOT_FOUND", "No such approval rule.");
    scope = ruleScopeOf(rule);
  } else {
    scope = ruleScopeOf(input);
    rule = null;
  }
  if (audit) {
    audit.target = { type: scope.hostId ? "host" : "hostGroup", id: scope.hostId ?? scope.hostGroupId };
    audit.hostId = scope.hostId ?? null;
  }
  await requireManage(db, viewer, scope);
  rule ??= await db.approvalRule.findUnique({ where: { scopeKey: keyOf(scope) } });
  if (!rule) throw new AppError("NOT_FOUND", "This host or host group has no approval rule.");
  // Requests already waiting stay waiting: removing the rule doesn't approve them.
  await db.approvalRule.deleteMany({ where: { id: rule.id } });
  return { ok: true };
}

/** The rules on hosts and groups the viewer can read (hosts.read there, or on a host of the group). */
export async function listApprovalRules(db: Db, viewer: Viewer): Promise<ApprovalRuleView[]> {
  const rules = await db.approvalRule.findMany({ orderBy: { createdAt: "asc" }, take: 1000 });
  const hostIds = rules.flatMap((r) => (r.hostId ? [r.hostId] : []));
  const groupIds = rules.flatMap((r) => (r.hostGroupId ? [r.hostGroupId] : []));
  const [hosts, groups] = await Promise.all([
    hostIds.length ? db.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, name: true, hostGroupId: true } }) : [],
    groupIds.length ? db.hostGroup.findMany({ where: { id: { in: groupIds } }, select: { id: true, name: true, hosts: { select: { id: true, hostGroupId: true } } } }) : [],
  ]);
  const hostById = new Map(hosts.map((h) => [h.id, h]));
  const groupById = new Map(groups.map((g) => [g.id, g]));
  const out: ApprovalRuleView[] = [];
  for (const rule of rules) {
    if (rule.hostId) {
      const host = hostById.get(rule.hostId);
      if (host && canOnHost(viewer, "hosts.read", host)) out.push(ruleView(rule, host.name));
    } else if (rule.hostGroupId) {
      const group = groupById.get(rule.hostGroupId);
      if (group && (holdsOn(viewer, "hosts.read", { type: "hostGroup", id: group.id }) || group.hosts.some((h) => canOnHost(viewer, "hosts.read", h)))) out.push(ruleView(rule, group.name));
    }
  }
  return out;
}
