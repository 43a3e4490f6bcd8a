import { randomBytes, createPublicKey, verify } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../server/audit/canonical";
import { CHECKPOINT_FILE, loadCheckpointKey } from "../../server/audit/checkpoint";
import { createEmptyDatabase, databaseUrl, withPg } from "../fixtures/database";
import { waitFor } from "../fixtures/fleet-env";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// The gateway runs as a database role that owns nothing and can only append to
// the audit log, so the append-only trigger binds it; and it anchors the audit
// chain with signed checkpoints, sent to a webhook. Real gateway, real Postgres
// (its own embedded one, and the suite's as an external server).

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

/** What the role behind `url` may do to the audit log, each attempt's error (null: it worked). */
async function tamperAttempts(url: string): Promise<Record<string, string | null>> {
  const attempts: Record<string, string> = {
    update: `UPDATE "AuditEvent" SET "action" = 'forged'`,
    delete: `DELETE FROM "AuditEvent"`,
    truncate: `TRUNCATE "AuditEvent"`,
    disableTrigger: `ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`,
    disableAllTriggers: `ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL`,
    replaceFunction: `CREATE OR REPLACE FUNCTION berth_audit_append_only() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql`,
    declareGap: `INSERT INTO "AuditIdGap" ("afterId", "nextId") VALUES (1000000, 2000000)`,
    dropTable: `DROP TABLE "AuditEvent"`,
  };
  const out: Record<string, string | null> = {};
  await withPg(url, async (c) => {
    for (const [name, sql] of Object.entries(attempts)) {
      out[name] = await c.query(sql).then(
        () => null,
        (e: Error) => e.message,
      );
    }
  });
  return out;
}

function expectAllRefused(attempts: Record<string, string | null>) {
  expect(attempts).toEqual({
    update: expect.stringMatching(/permission denied for table AuditEvent/),
    delete: expect.stringMatching(/permission denied for table AuditEvent/),
    truncate: expect.stringMatching(/permission denied for table AuditEvent/),
    disableTrigger: expect.stringMatching(/must be owner of table AuditEvent/),
    disableAllTriggers: expect.stringMatching(/must be owner of table AuditEvent/),
    // Refused for either reason: it may not create in the schema, and it doesn't own the function.
    replaceFunction: expect.stringMatching(/permission denied for schema public|must be owner of function berth_audit_append_only/),
    declareGap: expect.stringMatching(/permission denied for table AuditIdGap/),
    dropTable: expect.stringMatching(/must be owner of table AuditEvent/),
  });
}

describe("embedded Postgres: the gateway's role can't alter the audit log; checkpoints reach a webhook", () => {
  let dataDir: string;
  let gateway: Gateway;
  let receiver: http.Server;
  let hookUrl: string;
  const received: { type: string; checkpoint: Record<string, string>; publicKey: string }[] = [];

  const embeddedPort = async () => (JSON.parse(await readFile(path.join(dataDir, "postgres.owner.json"), "utf8")) as { port: number }).port;
  const password = async (file: string) => (await readFile(path.join(dataDir, file), "utf8")).trim();
  const urlAs = async (user: string, file: string) => `postgresql://${user}:${encodeURIComponent(await password(file))}@127.0.0.1:${await embeddedPort()}/berth`;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "berth-roles-"));
    receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        if (req.method === "POST" && req.url === "/checkpoints") received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/checkpoints`;
    gateway = await startGateway({
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_AUDIT_CHECKPOINT_SECONDS: "1",
      BERTH_AUDIT_CHECKPOINT_WEBHOOK: hookUrl,
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await new Promise((r) => receiver?.close(r));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("the gateway connects as berth_app, which can't UPDATE, DELETE, TRUNCATE or disable the audit trigger; the console works", async () => {
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    expect((await owner.trpc<{ email: string }>("me.get", undefined, "query")).data?.email).toBe(OWNER.email);
    expect((await owner.trpc("roles.create", { name: "Role as app", permissions: ["hosts.read"] })).error).toBeUndefined();

    const superuser = await urlAs("berth", "postgres-password");
    const users = await withPg(superuser, async (c) =>
      (await c.query<{ usename: string }>(`SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'berth' AND pid <> pg_backend_pid()`)).rows.map((r) => r.usename),
    );
    expect(users).toEqual(["berth_app"]);
    const role = await withPg(superuser, async (c) => (await c.query(`SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'berth_app'`)).rows[0]);
    expect(role).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });

    const before = await withPg(superuser, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "AuditEvent"`)).rows[0].n as number);
    expectAllRefused(await tamperAttempts(await urlAs("berth_app", "postgres-app-password")));
    expect(await withPg(superuser, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "AuditEvent"`)).rows[0].n)).toBe(before);
    expect(gateway.logs()).not.toMatch(/WARNING: the database role/);
  });

  it("a signed checkpoint of the chain's head arrives at the webhook and is kept in the data directory", async () => {
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const superuser = await urlAs("berth", "postgres-password");
    const signInId = await withPg(superuser, async (c) =>
      BigInt((await c.query(`SELECT max(id) AS id FROM "AuditEvent" WHERE "action" = 'auth.sign_in'`)).rows[0].id as string),
    );
    // Bounded: 20 s at most, one checkpoint a second.
    const latest = await waitFor(
      async () => received.at(-1),
      (r) => r !== undefined && BigInt(r.checkpoint.id) >= signInId,
    );
    expect(latest).toBeDefined();
    const { checkpoint, publicKey } = latest!;
    expect(latest!.type).toBe("berth.audit.checkpoint");

    // Signed with the data directory's key, over the checkpoint's fields.
    const key = (await loadCheckpointKey(dataDir, undefined, { create: false }))!;
    expect(publicKey).toBe(key.publicKeyBase64);
    const spki = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(publicKey, "base64")]), format: "der", type: "spki" });
    const { signature, ...signed } = checkpoint;
    expect(verify(null, Buffer.from(canonicalJson(signed)), spki, Buffer.from(signature!, "base64"))).toBe(true);

    // It names an event the chain holds, with that event's hash.
    const row = await withPg(superuser, async (c) => (await c.query(`SELECT hash FROM "AuditEvent" WHERE id = $1`, [checkpoint.id])).rows[0]);
    expect(row?.hash).toBe(checkpoint.hash);
    const onDisk = JSON.parse(await readFile(path.join(dataDir, CHECKPOINT_FILE), "utf8")) as { id: string };
    expect(BigInt(onDisk.id)).toBeGreaterThanOrEqual(BigInt(checkpoint.id));
    // The key is a file in the data directory, never in Postgres.
    expect(existsSync(path.join(dataDir, "audit-checkpoint.key"))).toBe(true);
  });

  it("a data directory from before the role split upgrades: the application role is created at the next start", async () => {
    // As the previous release left it: no application role, no password file for it.
    await withPg(await urlAs("berth", "postgres-password"), async (c) => {
      await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'berth_app'`);
      await c.query(`DROP OWNED BY berth_app`);
      await c.query(`DROP ROLE berth_app`);
    });
    await gateway.stop();
    await rm(path.join(dataDir, "postgres-app-password"));

    gateway = await startGateway({ BERTH_DATA_DIR: dataDir, BERTH_AUDIT_CHECKPOINT_WEBHOOK: hookUrl, BERTH_AUDIT_CHECKPOINT_SECONDS: "1" });
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    expectAllRefused(await tamperAttempts(await urlAs("berth_app", "postgres-app-password")));
    expect(gateway.logs()).not.toMatch(/WARNING: the database role/);
  });
});

describe("an external Postgres with DATABASE_MIGRATION_URL: the owner migrates, DATABASE_URL's role gets data rights only", () => {
  let gateways: Gateway[] = [];

  afterAll(async () => {
    for (const g of gateways) await g.stop();
  });

  it("the app role can't alter the audit log; with only an owner's DATABASE_URL, start-up warns", async () => {
    const { name } = await createEmptyDatabase("extroles");
    const ownerUrl = databaseUrl(name);
    const role = `berth_app_${randomBytes(4).toString("hex")}`;
    const secret = randomBytes(12).toString("hex");
    await withPg(ownerUrl, (c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`));
    const appUrl = new URL(ownerUrl);
    appUrl.username = role;
    appUrl.password = secret;

    const gateway = await startGateway({
      DATABASE_URL: appUrl.toString(),
      DATABASE_MIGRATION_URL: ownerUrl,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
    });
    gateways.push(gateway);
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    expect((await owner.trpc("roles.create", { name: "External app role", permissions: ["hosts.read"] })).error).toBeUndefined();
    expectAllRefused(await tamperAttempts(appUrl.toString()));
    expect(gateway.logs()).not.toMatch(/WARNING: the database role/);

    // The owner's own URL as DATABASE_URL: it works, and start-up says the trigger doesn't bind it.
    const ownerOnly = await startGateway({ DATABASE_URL: ownerUrl });
    gateways.push(ownerOnly);
    expect(ownerOnly.logs()).toMatch(/WARNING: the database role "berth" can act as a superuser.*DATABASE_MIGRATION_URL/);
  });
});
