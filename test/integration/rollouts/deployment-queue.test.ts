import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimNextRollout } from "../../../server/rollouts/worker";
import { queueApprovedRollout, supersedeQueued } from "../../../server/rollouts/engine";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";

// The rollout queue's claim, against Postgres: the oldest queued rollout that
// may start, never one whose target already runs one, never before its
// notBefore, and of two gateways claiming at once, at most one gets a
// target (several targets run side by side). A newer request supersedes
// older queued ones of its target only.

describe("the rollout queue", () => {
  let database: TestDatabase;
  let hostId: string;

  beforeAll(async () => {
    database = await createTestDatabase("rollout-queue");
    hostId = (await database.db.host.create({ data: { name: "queue-host", address: "192.0.2.1" } })).id;
  });

  afterAll(async () => {
    await database?.close();
  });

  const db = () => database.db;
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const queue = (target: { deploymentId?: string; stackId?: string }, extra: Record<string, unknown> = {}) =>
    db().rollout.create({ data: { hostId, trigger: "api", actorType: "user", status: "queued", createdAt: new Date((clock += 1000)), ...target, ...extra } });

  it("claims the oldest queued rollout and marks it running", async () => {
    const first = await queue({ deploymentId: "dep-a" });
    await queue({ deploymentId: "dep-b" });
    const claimed = await claimNextRollout(db());
    expect(claimed).toMatchObject({ id: first.id, status: "running" });
    expect(claimed!.startedAt).toBeInstanceOf(Date);
  });

  it("skips a target that has one running, and takes the next target's", async () => {
    const blocked = await queue({ deploymentId: "dep-a" });
    const next = await claimNextRollout(db());
    expect(next!.deploymentId).toBe("dep-b");
    expect(await claimNextRollout(db())).toBeNull();
    expect((await db().rollout.findUniqueOrThrow({ where: { id: blocked.id } })).status).toBe("queued");
    await db().rollout.updateMany({ where: { status: "running" }, data: { status: "succeeded", finishedAt: new Date() } });
    expect((await claimNextRollout(db()))!.id).toBe(blocked.id);
    await db().rollout.updateMany({ where: { status: "running" }, data: { status: "succeeded", finishedAt: new Date() } });
  });

  it("waits for notBefore (an approval's chosen time)", async () => {
    const later = await queue({ stackId: "stack-a" }, { notBefore: new Date(Date.now() + 60_000) });
    expect(await claimNextRollout(db())).toBeNull();
    expect((await claimNextRollout(db(), new Date(Date.now() + 61_000)))!.id).toBe(later.id);
    await db().rollout.updateMany({ where: { status: "running" }, data: { status: "succeeded", finishedAt: new Date() } });
  });

  it("of two claims at once for one target, only one wins; two targets are claimed side by side", async () => {
    // Two queued of one target (an approved one queued next to a newer request, say).
    await queue({ deploymentId: "dep-c" });
    await queue({ deploymentId: "dep-c" });
    const both = await Promise.all([claimNextRollout(db()), claimNextRollout(db()), claimNextRollout(db())]);
    const won = both.filter((r) => r !== null);
    expect(won.length).toBe(1);
    expect(await db().rollout.count({ where: { deploymentId: "dep-c", status: "running" } })).toBe(1);
    await db().rollout.updateMany({ where: { status: { in: ["running", "queued"] } }, data: { status: "succeeded", finishedAt: new Date() } });

    await queue({ deploymentId: "dep-d" });
    await queue({ deploymentId: "dep-e" });
    const two = (await Promise.all([claimNextRollout(db()), claimNextRollout(db())])).filter((r) => r !== null);
    // Each of them got one (SKIP LOCKED passes over the row the other holds), or one got its row first and the other the next one.
    const more = two.length < 2 ? await claimNextRollout(db()) : null;
    expect(new Set([...two, ...(more ? [more] : [])].map((r) => r!.deploymentId))).toEqual(new Set(["dep-d", "dep-e"]));
    await db().rollout.updateMany({ where: { status: "running" }, data: { status: "succeeded", finishedAt: new Date() } });
  });

  it("a newer request supersedes older queued rollouts of its target only", async () => {
    const old = await queue({ deploymentId: "dep-f" });
    const other = await queue({ deploymentId: "dep-g" });
    const newer = await queue({ deploymentId: "dep-f" });
    expect(await supersedeQueued(db(), { deploymentId: "dep-f" }, newer.id)).toBe(1);
    const rows = await db().rollout.findMany({ where: { id: { in: [old.id, other.id, newer.id] } } });
    const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
    expect(status).toEqual({ [old.id]: "superseded", [other.id]: "queued", [newer.id]: "queued" });
    expect(rows.find((r) => r.id === old.id)!.reason).toContain(newer.id);
  });

  it("an approved rollout joins the queue at its chosen time, superseding an older queued one; a decided one can't be queued again", async () => {
    const older = await queue({ deploymentId: "dep-h" });
    const waiting = await queue({ deploymentId: "dep-h" }, { status: "awaitingApproval" });
    const runAt = new Date(Date.now() + 60_000);
    expect(await queueApprovedRollout(db(), waiting.id, { runAt, approvedBy: "admin@example.test" })).toBe(true);
    const row = await db().rollout.findUniqueOrThrow({ where: { id: waiting.id } });
    expect(row).toMatchObject({ status: "queued", notBefore: runAt });
    expect((row.steps as { message: string }[]).at(-1)!.message).toMatch(/Approved by admin@example.test; runs at/);
    expect((await db().rollout.findUniqueOrThrow({ where: { id: older.id } })).status).toBe("superseded");
    expect(await queueApprovedRollout(db(), waiting.id)).toBe(false);
  });
});
