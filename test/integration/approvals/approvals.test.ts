import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepApprovals } from "../../../server/approvals/sweep";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { actorWith, type TestActor, waitingRollout } from "./approval-env";

// Approvals on a real Postgres through the real procedures: rules and who may
// set them, the scoped inbox and its count, approve / reject / cancel with
// every refusal and decision audited, expiry (sweep, and refused before the
// sweep), a chosen run time, and two approvers at once.

describe("approvals (real database, real procedures)", () => {
  let database: TestDatabase;
  let groupA: string;
  let groupB: string;
  let hostA: string;
  let hostB: string;
  let admin: TestActor;
  let admin2: TestActor;
  let deployer: TestActor;
  let outsider: TestActor;
  let leadA: TestActor;

  const db = () => database.db;
  const lastAudit = (where: Record<string, unknown>) => db().auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  const rolloutOf = (id: string) => db().rollout.findUniqueOrThrow({ where: { id } });

  beforeAll(async () => {
    database = await createTestDatabase("approvals");
    groupA = (await db().hostGroup.create({ data: { name: "production" } })).id;
    groupB = (await db().hostGroup.create({ data: { name: "staging" } })).id;
    hostA = (await db().host.create({ data: { name: "prod-1", address: "192.0.2.10", hostGroupId: groupA } })).id;
    hostB = (await db().host.create({ data: { name: "stage-1", address: "192.0.2.11", hostGroupId: groupB } })).id;
    admin = await actorWith(db(), [{ role: "Admin" }]);
    admin2 = await actorWith(db(), [{ role: "Admin" }]);
    deployer = await actorWith(db(), [{ role: "Deployer" }]);
    outsider = await actorWith(db(), [{ role: "Deployer", hostGroupId: groupB }]);
    // Approves on production only (a custom role: deploys.approve and hosts.read there).
    await db().role.create({ data: { name: "Prod approver", permissions: ["deploys.approve", "hosts.read"] } });
    leadA = await actorWith(db(), [{ role: "Prod approver", hostGroupId: groupA }]);
  });

  afterAll(async () => {
    await database?.close();
  });

  it("rules: hosts.manage sets and removes them (audited); others are refused (audited); the list is scoped", async () => {
    await expect(deployer.caller.approvals.setRule({ hostGroupId: groupA, expiryHours: 24 })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await lastAudit({ actorId: deployer.userId, action: "approvals.setRule" })).toMatchObject({ outcome: "denied", targetType: "hostGroup", targetId: groupA });
    await expect(admin.caller.approvals.setRule({ expiryHours: 24 })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("hostId or hostGroupId") });
    await expect(admin.caller.approvals.setRule({ hostGroupId: "no-such-group", expiryHours: 24 })).rejects.toMatchObject({ code: "FORBIDDEN" });

    const rule = await admin.caller.approvals.setRule({ hostGroupId: groupA, expiryHours: 24 });
    expect(rule).toMatchObject({ scope: { kind: "hostGroup", id: groupA, name: "production" }, expiryHours: 24 });
    expect(await lastAudit({ actorId: admin.userId, action: "approvals.setRule" })).toMatchObject({ outcome: "success", targetId: groupA });
    // Putting it again changes it in place.
    expect(await admin.caller.approvals.setRule({ hostGroupId: groupA, expiryHours: 48 })).toMatchObject({ id: rule.id, expiryHours: 48 });
    const hostRule = await admin.caller.approvals.setRule({ hostId: hostB, expiryHours: 2 });

    expect((await admin.caller.approvals.rules()).map((r) => r.scope.name).sort()).toEqual(["production", "stage-1"]);
    // A Deployer on staging reads staging only.
    expect((await outsider.caller.approvals.rules()).map((r) => r.scope.name)).toEqual(["stage-1"]);

    await expect(outsider.caller.approvals.removeRule({ id: hostRule.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await lastAudit({ actorId: outsider.userId, action: "approvals.removeRule" })).toMatchObject({ outcome: "denied", hostId: hostB });
    expect(await admin.caller.approvals.removeRule({ hostId: hostB })).toEqual({ ok: true });
    expect((await admin.caller.approvals.rules()).map((r) => r.scope.name)).toEqual(["production"]);
    await expect(admin.caller.approvals.removeRule({ hostId: hostB })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("a Deployer's request waits in the inbox with its full diff; only approvers who didn't ask can decide it", async () => {
    const { approvalId, rolloutId } = await waitingRollout(db(), { hostId: hostA, by: deployer });
    const seen = await admin.caller.approvals.get({ id: approvalId });
    expect(seen).toMatchObject({
      status: "waiting",
      rolloutId,
      requestedById: deployer.userId,
      requestedLabel: deployer.email,
      canDecide: true,
      rollout: {
        status: "awaitingApproval",
        hostName: "prod-1",
        target: { kind: "deployment", name: expect.stringMatching(/^web-/) },
        digestBefore: expect.stringContaining("@sha256:"),
        specDiff: [{ path: "image", before: "registry.test/team/web:1.0", after: "registry.test/team/web:1.1" }],
        verdict: { allowed: true },
        approvedBy: null,
      },
    });
    expect((await deployer.caller.approvals.get({ id: approvalId })).canDecide).toBe(false);
    expect((await leadA.caller.approvals.get({ id: approvalId })).canDecide).toBe(true);
    // Someone who can't read production doesn't see it at all.
    await expect(outsider.caller.approvals.get({ id: approvalId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await outsider.caller.approvals.list({ limit: 50 })).items.map((i) => i.id)).not.toContain(approvalId);
    expect(await lastAudit({ actorId: outsider.userId, action: "approvals.get" })).toMatchObject({ outcome: "denied" });

    const adminCount = (await admin.caller.approvals.count()).waiting;
    expect(adminCount).toBeGreaterThanOrEqual(1);
    expect((await deployer.caller.approvals.count()).waiting).toBe(0);
    expect((await outsider.caller.approvals.count()).waiting).toBe(0);

    // The Deployer can't approve their own request: FORBIDDEN, audited with the rollout.
    await expect(deployer.caller.approvals.approve({ id: approvalId, comment: "ship it" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await lastAudit({ actorId: deployer.userId, action: "approvals.approve" })).toMatchObject({ outcome: "denied", targetType: "rollout", targetId: rolloutId, hostId: hostA });
    expect((await rolloutOf(rolloutId)).status).toBe("awaitingApproval");

    // An Admin approves: the request is approved, the rollout queued to run now, and who approved shows on it.
    const approved = await admin.caller.approvals.approve({ id: approvalId, comment: "checked the diff" });
    expect(approved).toMatchObject({ status: "approved", decidedLabel: admin.email, comment: "checked the diff", runAt: null, canDecide: false, rollout: { status: "queued", approvedBy: admin.email } });
    const rollout = await rolloutOf(rolloutId);
    expect(rollout).toMatchObject({ status: "queued", notBefore: null });
    expect(JSON.stringify(rollout.steps)).toContain(`Approved by ${admin.email}: checked the diff`);
    const record = await lastAudit({ actorId: admin.userId, action: "approvals.approve" });
    expect(record).toMatchObject({ outcome: "success", targetType: "rollout", targetId: rolloutId, hostId: hostA });
    expect(record!.params).toMatchObject({ approvalId, rolloutId, comment: "checked the diff" });

    // Decided once: a second decision is a CONFLICT naming who decided.
    await expect(leadA.caller.approvals.reject({ id: approvalId, comment: "too late" })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining(`approved by ${admin.email}`) });
    expect((await admin.caller.approvals.count()).waiting).toBe(adminCount - 1);
  });

  it("an approver who asked can't approve their own request either; a webhook's creator counts as its requester", async () => {
    const own = await waitingRollout(db(), { hostId: hostA, by: admin });
    await expect(admin.caller.approvals.approve({ id: own.approvalId })).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("You asked for this rollout") });

    const hook = await db().webhook.create({ data: { hostId: hostA, name: "ci", prefix: "abcd", hash: "h".repeat(64), signingKey: "sealed", createdById: admin2.userId } });
    const viaHook = await waitingRollout(db(), { hostId: hostA, by: admin2, webhookId: hook.id, actor: { type: "webhook", id: hook.id, label: "ci" } });
    const view = await admin2.caller.approvals.get({ id: viaHook.approvalId });
    expect(view).toMatchObject({ canDecide: false, requestedLabel: `webhook ci for ${admin2.email}`, rollout: { trigger: "webhook" } });
    await expect(admin2.caller.approvals.approve({ id: viaHook.approvalId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await admin.caller.approvals.approve({ id: viaHook.approvalId })).toMatchObject({ status: "approved" });
  });

  it("a rejection needs a comment; the rollout is rejected and finished, never queued", async () => {
    const { approvalId, rolloutId } = await waitingRollout(db(), { hostId: hostA, by: deployer });
    await expect(leadA.caller.approvals.reject({ id: approvalId, comment: "   " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const rejected = await leadA.caller.approvals.reject({ id: approvalId, comment: "not during the freeze" });
    expect(rejected).toMatchObject({ status: "rejected", comment: "not during the freeze", decidedLabel: leadA.email, rollout: { status: "rejected", approvedBy: null } });
    const rollout = await rolloutOf(rolloutId);
    expect(rollout).toMatchObject({ status: "rejected", reason: expect.stringContaining("not during the freeze") });
    expect(rollout.finishedAt).not.toBeNull();
    expect(await lastAudit({ actorId: leadA.userId, action: "approvals.reject" })).toMatchObject({ outcome: "success", targetId: rolloutId });
    await expect(admin.caller.approvals.approve({ id: approvalId })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("an expired request can't be approved (even before the sweep ran); the sweep expires the rest, audited as the system", async () => {
    const early = await waitingRollout(db(), { hostId: hostA, by: deployer });
    const other = await waitingRollout(db(), { hostId: hostA, by: deployer });
    const past = new Date(Date.now() - 60_000);
    await db().approvalRequest.updateMany({ where: { id: { in: [early.approvalId, other.approvalId] } }, data: { expiresAt: past } });

    await expect(admin.caller.approvals.approve({ id: early.approvalId, comment: "ok" })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("expired") });
    expect(await lastAudit({ actorId: admin.userId, action: "approvals.approve" })).toMatchObject({ outcome: "error", targetId: early.rolloutId });
    expect(await db().approvalRequest.findUniqueOrThrow({ where: { id: early.approvalId } })).toMatchObject({ status: "expired" });
    expect((await rolloutOf(early.rolloutId)).status).toBe("expired");

    const swept = await sweepApprovals(db());
    expect(swept.expired).toBe(1);
    expect(await db().approvalRequest.findUniqueOrThrow({ where: { id: other.approvalId } })).toMatchObject({ status: "expired" });
    expect(await rolloutOf(other.rolloutId)).toMatchObject({ status: "expired", reason: expect.stringContaining("expired") });
    expect(await lastAudit({ action: "approvals.expire", targetId: other.rolloutId })).toMatchObject({ actorType: "system", outcome: "success", hostId: hostA });
    await expect(admin.caller.approvals.approve({ id: other.approvalId })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("expired") });
    // Nothing left to expire.
    expect((await sweepApprovals(db())).expired).toBe(0);
  });

  it("approved to run at a chosen time: queued with notBefore, not due yet; a time in the past is refused", async () => {
    const { approvalId, rolloutId } = await waitingRollout(db(), { hostId: hostA, by: deployer });
    await expect(admin.caller.approvals.approve({ id: approvalId, runAt: new Date(Date.now() - 3600_000) })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("in the past") });
    const runAt = new Date(Date.now() + 2 * 3600_000);
    const approved = await admin.caller.approvals.approve({ id: approvalId, comment: "after hours", runAt });
    expect(approved.runAt?.toISOString()).toBe(runAt.toISOString());
    expect(await rolloutOf(rolloutId)).toMatchObject({ status: "queued", notBefore: runAt });
    // The sweep finds no scheduled rollout due yet.
    expect((await sweepApprovals(db())).due).toBe(false);
  });

  it("two approvers at once: exactly one decision, the other told who won", async () => {
    const { approvalId, rolloutId } = await waitingRollout(db(), { hostId: hostA, by: deployer });
    const results = await Promise.allSettled([
      admin.caller.approvals.approve({ id: approvalId, comment: "one" }),
      leadA.caller.approvals.reject({ id: approvalId, comment: "two" }),
      admin2.caller.approvals.approve({ id: approvalId, comment: "three" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "CONFLICT" });
    const request = await db().approvalRequest.findUniqueOrThrow({ where: { id: approvalId } });
    const rollout = await rolloutOf(rolloutId);
    expect(request.status === "approved" ? "queued" : "rejected").toBe(rollout.status);
    const successes = await db().auditEvent.count({ where: { targetId: rolloutId, action: { in: ["approvals.approve", "approvals.reject"] }, outcome: "success" } });
    expect(successes).toBe(1);
  });

  it("the requester can cancel their own waiting request; nobody else can", async () => {
    const { approvalId, rolloutId } = await waitingRollout(db(), { hostId: hostA, by: deployer });
    await expect(admin.caller.approvals.cancel({ id: approvalId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await deployer.caller.approvals.cancel({ id: approvalId, comment: "wrong tag" })).toMatchObject({ status: "cancelled", rollout: { status: "cancelled" } });
    expect(await rolloutOf(rolloutId)).toMatchObject({ status: "cancelled" });
    expect(await lastAudit({ actorId: deployer.userId, action: "approvals.cancel" })).toMatchObject({ outcome: "success", targetId: rolloutId });
    await expect(admin.caller.approvals.approve({ id: approvalId })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("cancelled") });
  });

  it("the inbox: waiting first, then the rest, each newest first; cursor pages cover every request once; filters", async () => {
    const all = await admin.caller.approvals.list({ limit: 100 });
    const statuses = all.items.map((i) => i.status);
    const firstDone = statuses.findIndex((s) => s !== "waiting");
    expect(firstDone).toBeGreaterThan(0);
    expect(statuses.slice(firstDone).every((s) => s !== "waiting")).toBe(true);
    expect(all.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const p = await admin.caller.approvals.list({ limit: 2, cursor });
      seen.push(...p.items.map((i) => i.id));
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(all.items.map((i) => i.id));

    const waiting = await admin.caller.approvals.list({ status: ["waiting"], limit: 100 });
    expect(waiting.items.every((i) => i.status === "waiting")).toBe(true);
    const decidable = await admin.caller.approvals.list({ decidable: true, limit: 100 });
    expect(decidable.items.every((i) => i.canDecide)).toBe(true);
    expect(decidable.items).toHaveLength((await admin.caller.approvals.count()).waiting);
    const mine = await deployer.caller.approvals.list({ mine: true, limit: 100 });
    expect(mine.items.length).toBeGreaterThan(3);
    expect(mine.items.every((i) => i.requestedById === deployer.userId)).toBe(true);
    await expect(admin.caller.approvals.list({ cursor: "not-a-cursor", limit: 5 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
