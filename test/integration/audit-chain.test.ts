import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAudit } from "../../server/audit/write";
import { verifyAuditChain } from "../../server/audit/verify";
import { auditVerifyCli } from "../fixtures/audit-verify-cli";
import { createTestDatabase, withPg, type TestDatabase } from "../fixtures/database";

describe("audit log: append-only and tamper-evident (real Postgres)", () => {
  let database: TestDatabase;
  const ids: bigint[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("audit");
    for (let i = 0; i < 10; i++) {
      const e = await writeAudit(database.db, {
        actor: { type: "user", id: `u${i}`, label: `user${i}@example.test` },
        action: "test.event",
        outcome: i % 3 === 0 ? "denied" : "success",
        params: { i, password: "hunter2-secret", nested: { apiKey: "k", keep: "yes" } },
        request: { requestId: `r${i}`, ip: "127.0.0.1", userAgent: "test" },
      });
      ids.push(e.id);
    }
  });
  afterAll(async () => database?.close());

  it("redacts secrets in parameters before they are stored", async () => {
    const row = await database.db.auditEvent.findUniqueOrThrow({ where: { id: ids[0]! } });
    expect(row.params).toEqual({ i: 0, password: "[redacted]", nested: { apiKey: "[redacted]", keep: "yes" } });
  });

  it("UPDATE, DELETE and TRUNCATE on AuditEvent fail, whoever runs them", async () => {
    await withPg(database.url, async (c) => {
      await expect(c.query(`UPDATE "AuditEvent" SET "action" = 'forged' WHERE id = $1`, [ids[2]])).rejects.toThrow(/append-only: UPDATE/);
      await expect(c.query(`DELETE FROM "AuditEvent" WHERE id = $1`, [ids[2]])).rejects.toThrow(/append-only: DELETE/);
      await expect(c.query(`TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only: TRUNCATE/);
    });
    const row = await database.db.auditEvent.findUniqueOrThrow({ where: { id: ids[2]! } });
    expect(row.action).toBe("test.event");
    expect(await database.db.auditEvent.count()).toBe(10);
  });

  it("an intact chain verifies, in code and with npm run audit:verify", async () => {
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 10 });
    const cli = await auditVerifyCli(database.url);
    expect(cli.code).toBe(0);
    expect(cli.out).toContain("audit chain OK: 10 events verified");
  });

  it("tampering (trigger disabled to simulate it) is detected, naming the first bad event", async () => {
    const altered = ids[4]!;
    await withPg(database.url, async (c) => {
      await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`);
      await c.query(`UPDATE "AuditEvent" SET "outcome" = 'success' WHERE id = $1`, [ids[3]]);
      await c.query(`UPDATE "AuditEvent" SET "params" = '{"i": 4}' WHERE id = $1`, [altered]);
      await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_no_update_delete"`);
    });
    const result = await verifyAuditChain(database.db);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toEqual({ id: ids[3]!.toString(), reason: expect.stringMatching(/altered/) });

    const cli = await auditVerifyCli(database.url);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`audit chain BROKEN at event ${ids[3]}`);
  });

  it("a removed event is detected at the event after it", async () => {
    const db2 = await createTestDatabase("audit2");
    const written: { id: bigint }[] = [];
    for (let i = 0; i < 5; i++) {
      written.push(await writeAudit(db2.db, { actor: { type: "system" }, action: "x", outcome: "success", params: { i } }));
    }
    await withPg(db2.url, async (c) => {
      await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`);
      await c.query(`DELETE FROM "AuditEvent" WHERE id = $1`, [written[2]!.id]);
    });
    const result = await verifyAuditChain(db2.db);
    expect(result.firstBad).toEqual({ id: written[3]!.id.toString(), reason: expect.stringMatching(/removed or reordered/) });
    await db2.close();
  });
});
