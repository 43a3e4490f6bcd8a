/**
 * Approvals on a real database, through the real tRPC procedures: users with
 * real role bindings, hosts and groups as plain rows (enough for scoping),
 * and waiting rollouts opened the way the engine opens them
 * (server/approvals/open-request.ts).
 */
import { randomBytes } from "node:crypto";
import { openApprovalRequest } from "../../../server/approvals/open-request";
import { loadGrants, type Viewer } from "../../../server/auth/access";
import type { Db } from "../../../server/db";
import type { Prisma } from "../../../server/generated/prisma/client";
import { appRouter } from "../../../server/routers/_app";
import type { RolloutRequester } from "../../../server/rollouts/types";
import { createCallerFactory } from "../../../server/trpc";

const createCaller = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof createCaller>;

export interface TestActor {
  caller: Caller;
  userId: string;
  email: string;
  viewer: Viewer;
}

let users = 0;

/** A new user holding `roles` (each everywhere, or on a group or host), with a tRPC caller. */
export async function actorWith(db: Db, roles: { role: string; hostGroupId?: string; hostId?: string }[]): Promise<TestActor> {
  const email = `u${++users}-${randomBytes(3).toString("hex")}@example.test`;
  const user = await db.user.create({ data: { email } });
  for (const r of roles) {
    const role = await db.role.findUniqueOrThrow({ where: { name: r.role } });
    await db.roleBinding.create({
      data: r.hostGroupId
        ? { userId: user.id, roleId: role.id, scopeType: "hostGroup", hostGroupId: r.hostGroupId, scopeKey: `hostGroup:${r.hostGroupId}` }
        : r.hostId
          ? { userId: user.id, roleId: role.id, scopeType: "host", hostId: r.hostId, scopeKey: `host:${r.hostId}` }
          : { userId: user.id, roleId: role.id, scopeType: "global", scopeKey: "global" },
    });
  }
  const viewer: Viewer = { user: { id: user.id, email, name: null }, sessionId: null, grants: await loadGrants(db, user.id) };
  const caller = createCaller({
    db,
    viewer,
    meta: { requestId: randomBytes(8).toString("hex"), ip: "127.0.0.1", userAgent: "approvals-test" },
    fleet: async () => {
      throw new Error("approvals never reach for the fleet");
    },
  });
  return { caller, userId: user.id, email, viewer };
}

/** Who asked, as waitingRollout needs it: a user and their viewer now. */
export type Requester = Pick<TestActor, "userId" | "email" | "viewer">;

export async function requesterOf(db: Db, userId: string): Promise<Requester> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  return { userId, email: user.email, viewer: { user: { id: user.id, email: user.email, name: user.name }, sessionId: null, grants: await loadGrants(db, userId) } };
}

/** A deployment row on the host and a rollout of it that waits for approval, as requestRollout leaves one. */
export async function waitingRollout(
  db: Db,
  o: { hostId: string; by: Requester; expiryHours?: number; webhookId?: string; actor?: RolloutRequester["actor"]; name?: string },
): Promise<{ rolloutId: string; approvalId: string; deploymentId: string }> {
  const name = o.name ?? `web-${randomBytes(3).toString("hex")}`;
  const spec = { image: "registry.test/team/web:1.0", name };
  const deployment = await db.deployment.create({ data: { hostId: o.hostId, name, spec, status: "running", containerId: "c0ffee" } });
  const actor = o.actor ?? { type: "user" as const, id: o.by.userId, label: o.by.email };
  const rollout = await db.rollout.create({
    data: {
      hostId: o.hostId,
      deploymentId: deployment.id,
      trigger: actor.type === "webhook" ? "webhook" : "form",
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorLabel: actor.label ?? null,
      requestedById: o.by.userId,
      webhookId: o.webhookId ?? null,
      status: "awaitingApproval",
      imageRef: "registry.test/team/web:1.1",
      digestBefore: "registry.test/team/web@sha256:" + "a".repeat(64),
      specBefore: spec as Prisma.InputJsonValue,
      specAfter: { ...spec, image: "registry.test/team/web:1.1" } as Prisma.InputJsonValue,
      specDiff: [{ path: "image", before: "registry.test/team/web:1.0", after: "registry.test/team/web:1.1" }] as Prisma.InputJsonValue,
      verdict: { allowed: true, violations: [], overridden: [] } as Prisma.InputJsonValue,
      steps: [{ at: new Date().toISOString(), phase: "approval", message: "Waiting for an approver" }] as Prisma.InputJsonValue,
    },
  });
  const request = await openApprovalRequest(db, rollout, { required: true, expiryHours: o.expiryHours ?? 72 }, { actor, viewer: o.by.viewer, webhookId: o.webhookId ?? null });
  return { rolloutId: rollout.id, approvalId: request.id, deploymentId: deployment.id };
}
