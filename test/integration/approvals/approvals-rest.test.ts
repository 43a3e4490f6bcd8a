import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, type TestUser } from "../../fixtures/console-users";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { requesterOf, waitingRollout } from "./approval-env";

// The approvals endpoints on the real gateway (npm run build first), with API
// tokens: rules put and deleted at their scope's URL, the inbox, approve and
// reject with their refusals (each a clear status and message, audited with
// the token as the actor), 405 for a method a path doesn't have, and the
// OpenAPI document listing them.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("approvals over /api/v1 (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let ownerToken: string;
  let deployer: TestUser;
  let deployerToken: string;
  let approver: TestUser;
  let approverToken: string;
  let groupId: string;
  let hostId: string;

  const api = (token: string, p: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/api/v1${p}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
  const body = async (res: Response) => (await res.json()) as Record<string, any>;
  const tokenOf = async (client: HttpClient) => {
    const made = await client.trpc<{ secret: string }>("tokens.create", { name: `t-${Math.random().toString(36).slice(2, 8)}` });
    expect(made.error, JSON.stringify(made.error)).toBeUndefined();
    return made.data!.secret;
  };
  const lastAudit = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });

  beforeAll(async () => {
    database = await createTestDatabase("approvalsrest");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    groupId = (await owner.trpc<{ id: string }>("hosts.createGroup", { name: "production" })).data!.id;
    hostId = (await database.db.host.create({ data: { name: "prod-1", address: "192.0.2.20", hostGroupId: groupId } })).id;
    deployer = await addUser(owner, database.db, "deployer@example.test", [{ role: "Deployer" }]);
    approver = await addUser(owner, database.db, "approver@example.test", [{ role: "Admin" }]);
    [ownerToken, deployerToken, approverToken] = [await tokenOf(owner), await tokenOf(deployer.client), await tokenOf(approver.client)];
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("rules: PUT at the group's URL (hosts.manage), GET lists them, a Deployer is refused 403 (audited), DELETE removes", async () => {
    const denied = await api(deployerToken, `/approval-rules/hostGroup/${groupId}`, { method: "PUT", body: JSON.stringify({ expiryHours: 24 }) });
    expect(denied.status).toBe(403);
    expect((await body(denied)).error.message).toContain("hosts.manage");
    expect(await lastAudit({ action: "api.v1.approvalRules.put", outcome: "denied" })).toMatchObject({ actorType: "token" });

    const bad = await api(ownerToken, `/approval-rules/hostGroup/${groupId}`, { method: "PUT", body: JSON.stringify({ expiryHours: 0 }) });
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.message).toContain("expiryHours");
    expect((await api(ownerToken, `/approval-rules/cluster/${groupId}`, { method: "PUT", body: "{}" })).status).toBe(404);

    const put = await api(ownerToken, `/approval-rules/hostGroup/${groupId}`, { method: "PUT", body: JSON.stringify({ expiryHours: 24 }) });
    expect(put.status).toBe(200);
    expect(await body(put)).toMatchObject({ scope: { kind: "hostGroup", id: groupId, name: "production" }, expiryHours: 24 });
    expect((await api(ownerToken, `/approval-rules/host/${hostId}`, { method: "PUT", body: "{}" })).status).toBe(200);
    const listed = (await body(await api(deployerToken, "/approval-rules"))) as unknown as { scope: { name: string }; expiryHours: number }[];
    expect(listed.map((r) => [r.scope.name, r.expiryHours]).sort()).toEqual([
      ["prod-1", 72],
      ["production", 24],
    ]);
    expect((await api(ownerToken, `/approval-rules/host/${hostId}`, { method: "DELETE" })).status).toBe(200);
    expect((await api(ownerToken, `/approval-rules/host/${hostId}`, { method: "DELETE" })).status).toBe(404);
    const wrongMethod = await api(ownerToken, `/approval-rules/host/${hostId}`, { method: "POST", body: "{}" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("PUT, DELETE");
  });

  it("the inbox and decisions: the requester is refused, an approver approves, a second decision is 409", async () => {
    const { approvalId, rolloutId } = await waitingRollout(database.db, { hostId, by: await requesterOf(database.db, deployer.id) });

    const inbox = await body(await api(approverToken, "/approvals?status=waiting&decidable=true"));
    expect(inbox.items.map((i: { id: string }) => i.id)).toContain(approvalId);
    const one = await body(await api(approverToken, `/approvals/${approvalId}`));
    expect(one).toMatchObject({ id: approvalId, status: "waiting", canDecide: true, expiresAt: expect.stringMatching(/Z$/), rollout: { id: rolloutId, status: "awaitingApproval", specDiff: [{ path: "image" }] } });

    const own = await api(deployerToken, `/approvals/${approvalId}/approve`, { method: "POST", body: JSON.stringify({ comment: "mine" }) });
    expect(own.status).toBe(403);
    expect((await body(own)).error.message).toContain("deploys.approve");
    expect(await lastAudit({ action: "approvals.approve", actorId: { not: null }, outcome: "denied", targetId: rolloutId })).toBeTruthy();

    const noComment = await api(approverToken, `/approvals/${approvalId}/reject`, { method: "POST", body: "{}" });
    expect(noComment.status).toBe(400);
    expect((await body(noComment)).error.message).toContain("comment");
    const unknownField = await api(approverToken, `/approvals/${approvalId}/approve`, { method: "POST", body: JSON.stringify({ coment: "typo" }) });
    expect(unknownField.status).toBe(400);

    const ok = await api(approverToken, `/approvals/${approvalId}/approve`, { method: "POST", body: JSON.stringify({ comment: "checked" }) });
    expect(ok.status).toBe(200);
    const approved = await body(ok);
    expect(approved).toMatchObject({ status: "approved", decidedLabel: approver.email, comment: "checked", rollout: { approvedBy: approver.email } });
    // The gateway's worker takes it at once (this host is only a row, so it goes on to fail there): it left the waiting state.
    expect(["queued", "running", "failed"]).toContain(approved.rollout.status);
    expect(await lastAudit({ action: "api.v1.approvals.approve", outcome: "success" })).toMatchObject({ actorType: "token" });
    expect(await lastAudit({ action: "approvals.approve", outcome: "success" })).toMatchObject({ actorId: expect.any(String), targetId: rolloutId });

    const again = await api(approverToken, `/approvals/${approvalId}/reject`, { method: "POST", body: JSON.stringify({ comment: "late" }) });
    expect(again.status).toBe(409);
    expect((await body(again)).error.message).toContain(`approved by ${approver.email}`);
    expect((await api(approverToken, `/approvals/${approvalId}/approve`, { method: "GET" })).status).toBe(405);
  });

  it("an expired request is refused 409; a later runAt keeps the rollout queued until then; the requester cancels", async () => {
    const requester = await requesterOf(database.db, deployer.id);
    const late = await waitingRollout(database.db, { hostId, by: requester });
    await database.db.approvalRequest.update({ where: { id: late.approvalId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const refused = await api(approverToken, `/approvals/${late.approvalId}/approve`, { method: "POST", body: "{}" });
    expect(refused.status).toBe(409);
    expect((await body(refused)).error.message).toContain("expired");
    expect((await database.db.rollout.findUniqueOrThrow({ where: { id: late.rolloutId } })).status).toBe("expired");

    const later = await waitingRollout(database.db, { hostId, by: requester });
    const runAt = new Date(Date.now() + 3600_000).toISOString();
    const approved = await api(approverToken, `/approvals/${later.approvalId}/approve`, { method: "POST", body: JSON.stringify({ runAt }) });
    expect(approved.status).toBe(200);
    // Not due for an hour: the worker leaves it queued.
    expect(await body(approved)).toMatchObject({ runAt, rollout: { status: "queued" } });
    expect((await database.db.rollout.findUniqueOrThrow({ where: { id: later.rolloutId } })).notBefore?.toISOString()).toBe(runAt);

    const mine = await waitingRollout(database.db, { hostId, by: requester });
    expect((await api(approverToken, `/approvals/${mine.approvalId}/cancel`, { method: "POST", body: "{}" })).status).toBe(403);
    const cancelled = await api(deployerToken, `/approvals/${mine.approvalId}/cancel`, { method: "POST", body: JSON.stringify({ comment: "wrong tag" }) });
    expect(cancelled.status).toBe(200);
    expect(await body(cancelled)).toMatchObject({ status: "cancelled", rollout: { status: "cancelled" } });
  });

  it("the OpenAPI document lists the approvals endpoints", async () => {
    const doc = (await (await fetch(`${gateway.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    expect(doc.paths["/approvals/{approvalId}/approve"]?.post?.operationId).toBe("approveApproval");
    expect(doc.paths["/approval-rules/{scope}/{scopeId}"]?.put?.operationId).toBe("putApprovalRule");
    expect(doc.paths["/approval-rules/{scope}/{scopeId}"]?.delete?.operationId).toBe("deleteApprovalRule");
  });
});
