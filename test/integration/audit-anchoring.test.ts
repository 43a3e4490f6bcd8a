import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH, hashEvent } from "../../server/audit/canonical";
import { CHECKPOINT_FILE, loadCheckpointEvidence, loadCheckpointKey } from "../../server/audit/checkpoint";
import { startCheckpointSchedule } from "../../server/audit/checkpoint-schedule";
import { verifyAuditChain } from "../../server/audit/verify";
import { writeAudit } from "../../server/audit/write";
import { migrate, MIGRATIONS_DIR } from "../../server/database/migrate";
import { createDb } from "../../server/db";
import { auditVerifyCli } from "../fixtures/audit-verify-cli";
import { createEmptyDatabase, createTestDatabase, withPg, type TestDatabase } from "../fixtures/database";

// Audit events removed without a trace the hash chain alone would show: ids
// must be consecutive (the writer never leaves a gap), and the end of the
// chain is compared with a signed checkpoint kept outside the database.
// Real Postgres; tampering is done as its superuser, with the trigger disabled.

const write = (database: TestDatabase, i: number, action = "test.event") =>
  writeAudit(database.db, { actor: { type: "system" }, action, outcome: "success", params: { i } });

/** As someone holding the superuser: rewrites every event from `fromId` so the hash chain fits again. */
async function rechain(database: TestDatabase, fromId: bigint) {
  const rows = await database.db.auditEvent.findMany({ orderBy: { id: "asc" } });
  let prev = GENESIS_HASH;
  await withPg(database.url, async (c) => {
    await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`);
    for (const row of rows) {
      if (row.id >= fromId) {
        const hash = hashEvent({ ...row, prevHash: prev });
        await c.query(`UPDATE "AuditEvent" SET "prevHash" = $1, "hash" = $2 WHERE id = $3`, [prev, hash, row.id]);
        prev = hash;
      } else prev = row.hash;
    }
    await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_no_update_delete"`);
  });
}

describe("audit ids without gaps (real Postgres)", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("auditgaps");
  });
  afterAll(async () => database?.close());

  it("a write that fails inside its transaction consumes no id: the next event's id follows the last one", async () => {
    await write(database, 1);
    await withPg(database.url, (c) =>
      c.query(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
               CREATE TRIGGER test_refuse BEFORE INSERT ON "AuditEvent" FOR EACH ROW WHEN (NEW."action" = 'test.refused') EXECUTE FUNCTION test_refuse()`),
    );
    await expect(write(database, 2, "test.refused")).rejects.toThrow(/refused/);
    await write(database, 3);
    const ids = (await database.db.auditEvent.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((r) => r.id);
    expect(ids).toEqual([1n, 2n]);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 2, legacyGaps: 0 });
  });

  it("an event removed with the chain after it rewritten (every hash fits) is caught by the gap in the ids", async () => {
    const db2 = await createTestDatabase("auditgaps2");
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "berth-gaps-"));
    try {
      for (let i = 0; i < 6; i++) await write(db2, i);
      await withPg(db2.url, async (c) => {
        await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`);
        await c.query(`DELETE FROM "AuditEvent" WHERE id = 3`);
        await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_no_update_delete"`);
      });
      await rechain(db2, 4n);
      const result = await verifyAuditChain(db2.db);
      expect(result.ok).toBe(false);
      expect(result.firstBad).toEqual({ id: "4", reason: expect.stringMatching(/ids jump from 2 to 4: 1 event\(s\) are missing/) });
      const cli = await auditVerifyCli(db2.url, dataDir);
      expect(cli.code).toBe(1);
      expect(cli.out).toContain("audit chain BROKEN at event 4");
    } finally {
      await db2.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("gaps left before the upgrade are recorded by its migration and reported as such, not as removals", async () => {
    const { url } = await createEmptyDatabase("auditlegacy");
    const before = await mkdtemp(path.join(os.tmpdir(), "berth-migrations-"));
    try {
      // The database as the previous release left it: every migration up to this one.
      const { cp } = await import("node:fs/promises");
      for (const name of await readdir(MIGRATIONS_DIR)) {
        if (name < "2026120603000000") await cp(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
      }
      await migrate(url, { dir: before });
      // Ids 1, 2, 5, 6: nextval values lost to rolled-back writes. The chain itself is intact.
      const db = createDb(url);
      let prev = GENESIS_HASH;
      for (const id of [1n, 2n, 5n, 6n]) {
        const fields = { id, createdAt: new Date(), actorType: "system", actorId: null, actorLabel: null, sourceIp: null, userAgent: null, action: "old.event", targetType: null, targetId: null, hostId: null, params: {}, outcome: "success", errorMessage: null, requestId: null, prevHash: prev };
        const hash = hashEvent(fields);
        await db.auditEvent.create({ data: { ...fields, actorType: "system", outcome: "success", hash } });
        prev = hash;
      }
      await migrate(url);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, checked: 4, legacyGaps: 1 });
      // New events follow on without a gap.
      await writeAudit(db, { actor: { type: "system" }, action: "new.event", outcome: "success" });
      expect((await db.auditEvent.findFirstOrThrow({ where: { action: "new.event" } })).id).toBe(7n);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, checked: 5, legacyGaps: 1 });
      await db.$disconnect();
    } finally {
      await rm(before, { recursive: true, force: true });
    }
  });
});

describe("the chain anchored by signed checkpoints outside the database (real Postgres)", () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase("auditanchor");
    dataDir = await mkdtemp(path.join(os.tmpdir(), "berth-anchor-"));
  });
  afterAll(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("events deleted from the end by the superuser are caught against the last checkpoint; the checkpoint isn't moved to the cut chain", async () => {
    for (let i = 0; i < 5; i++) await write(database, i);
    const key = (await loadCheckpointKey(dataDir, undefined, { create: true }))!;
    const schedule = startCheckpointSchedule({ db: database.db, dataDir, key, intervalMs: 3_600_000, log: () => {} });
    await schedule.tick();
    const checkpoint = JSON.parse(await readFile(path.join(dataDir, CHECKPOINT_FILE), "utf8")) as { id: string; hash: string };
    const head = await database.db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(checkpoint).toMatchObject({ id: head.id.toString(), hash: head.hash });
    expect(await verifyAuditChain(database.db, { checkpoint: await loadCheckpointEvidence(dataDir, undefined) })).toMatchObject({
      ok: true,
      checkpoint: { status: "ok", id: "5" },
    });

    // The superuser cuts off the last two events: what remains is a valid chain.
    await withPg(database.url, async (c) => {
      await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`);
      await c.query(`DELETE FROM "AuditEvent" WHERE id > 3`);
      await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_no_update_delete"`);
    });
    const cut = await verifyAuditChain(database.db, { checkpoint: await loadCheckpointEvidence(dataDir, undefined) });
    expect(cut.ok).toBe(false);
    expect(cut.checkpoint.status).toBe("truncated");
    expect(cut.firstBad).toEqual({ id: "4", reason: expect.stringMatching(/ends at event #3, but the checkpoint of .* recorded event #5: events were removed from the end/) });
    const cli = await auditVerifyCli(database.url, dataDir);
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(/audit chain BROKEN at event 4: .*removed from the end/);

    // New events on the cut chain: the next checkpoint would hide the cut, so none is taken; it is reported instead.
    await write(database, 10);
    await schedule.tick();
    await schedule.stop();
    expect(JSON.parse(await readFile(path.join(dataDir, CHECKPOINT_FILE), "utf8"))).toEqual(checkpoint);
    const reported = await database.db.auditEvent.findFirst({ where: { action: "audit.checkpoint", outcome: "error" } });
    expect(reported?.errorMessage).toMatch(/no longer holds event #5/);
    const rewritten = await verifyAuditChain(database.db, { checkpoint: await loadCheckpointEvidence(dataDir, undefined) });
    expect(rewritten).toMatchObject({ ok: false, checkpoint: { status: "rewritten" }, firstBad: { id: "5" } });
  });

  it("a checkpoint that was edited (or signed with another key) is refused", async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), "berth-anchor-forged-"));
    try {
      const { cp, writeFile } = await import("node:fs/promises");
      await cp(path.join(dataDir, CHECKPOINT_FILE), path.join(other, CHECKPOINT_FILE));
      const head = await database.db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
      const forged = { ...JSON.parse(await readFile(path.join(dataDir, CHECKPOINT_FILE), "utf8")), id: head.id.toString(), hash: head.hash };
      await writeFile(path.join(other, CHECKPOINT_FILE), JSON.stringify(forged));
      await cp(path.join(dataDir, "audit-checkpoint.key"), path.join(other, "audit-checkpoint.key"));
      const result = await verifyAuditChain(database.db, { checkpoint: await loadCheckpointEvidence(other, undefined) });
      expect(result).toMatchObject({ ok: false, checkpoint: { status: "unusable", reason: expect.stringMatching(/signature is not valid/) } });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
