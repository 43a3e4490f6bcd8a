import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../server/audit/verify";
import { writeAudit } from "../../server/audit/write";
import { JSON_FIELDS } from "../../server/database/storable-writes";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { loadDatamodel } from "../fixtures/dmmf";

// Strings Postgres refuses (NUL, unpaired UTF-16 surrogates), written by any
// path to the audit log and to JSON columns, against a real Postgres.

describe("unstorable strings are stored safely (real Postgres)", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("storable");
  });
  afterAll(async () => database?.close());

  it("the audit writer stores NUL and unpaired surrogates from any field, parameter keys included, and the chain still verifies", async () => {
    const written = await writeAudit(database.db, {
      actor: { type: "user", id: "u1", label: "mallory\u0000@example.test" },
      action: "containers.deploy",
      outcome: "error",
      target: { type: "container", id: "web\u0000" },
      hostId: "h1",
      params: {
        spec: { labels: { "evil\u0000key": "lone \uD800 high", ok: "low \uDC00 alone" } },
        "key\uDFFFwith-low": ["a\u0000b", "pair 😀 kept"],
        // A cap that would split a surrogate pair.
        long: `${"x".repeat(999)}😀`,
      },
      errorMessage: "label \uD83D broken",
      request: { requestId: "r\u0000", ip: "127.0.0.1", userAgent: "agent\uDC00" },
    });
    const row = await database.db.auditEvent.findUniqueOrThrow({ where: { id: written.id } });
    expect(row.actorLabel).toBe("mallory@example.test");
    expect(row.targetId).toBe("web");
    expect(row.errorMessage).toBe("label \uFFFD broken");
    expect(row.userAgent).toBe("agent\uFFFD");
    expect(row.params).toEqual({
      spec: { labels: { evilkey: "lone \uFFFD high", ok: "low \uFFFD alone" } },
      "key\uFFFDwith-low": ["ab", "pair 😀 kept"],
      long: `${"x".repeat(999)}\uFFFD…`,
    });
    // The hash covers what is stored: the chain verifies.
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 1 });
  });

  it("keys that become equal once cleaned are both kept", async () => {
    const written = await writeAudit(database.db, {
      actor: { type: "system" },
      action: "test.collide",
      outcome: "success",
      params: { labels: { "a\u0000b": "first", ab: "second" } },
    });
    const row = await database.db.auditEvent.findUniqueOrThrow({ where: { id: written.id } });
    expect(row.params).toEqual({ labels: { ab: "second", "a\\u0000b": "first" } });
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
  });

  it("every JSON column is made storable on write: a Deployment spec with a NUL label key is saved, not refused", async () => {
    const host = await database.db.host.create({ data: { name: "storable-host", address: "192.0.2.50" } });
    const saved = await database.db.deployment.create({
      data: { hostId: host.id, name: "web", spec: { image: "busybox", labels: { "a\u0000b": "\uD800" } } },
    });
    const read = await database.db.deployment.findUniqueOrThrow({ where: { id: saved.id } });
    expect(read.spec).toEqual({ image: "busybox", labels: { ab: "\uFFFD" } });
    await database.db.deployment.update({ where: { id: saved.id }, data: { spec: { labels: { "x\u0000": "y" } } } });
    expect((await database.db.deployment.findUniqueOrThrow({ where: { id: saved.id } })).spec).toEqual({ labels: { x: "y" } });
    await database.db.host.update({ where: { id: host.id }, data: { facts: { hostname: "h\u0000st", "os\uDC00": "linux" } } });
    expect((await database.db.host.findUniqueOrThrow({ where: { id: host.id } })).facts).toEqual({ hostname: "hst", "os\uFFFD": "linux" });
  });

  it("the list of JSON columns cleaned on write is every Json field of schema.prisma", () => {
    const fromSchema = Object.fromEntries(
      loadDatamodel()
        .models.map((m) => [m.name, m.fields.filter((f) => f.type === "Json").map((f) => f.name)] as const)
        .filter(([, fields]) => fields.length > 0),
    );
    expect(JSON_FIELDS).toEqual(fromSchema);
  });
});
