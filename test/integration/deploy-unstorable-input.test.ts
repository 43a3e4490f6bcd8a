import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../server/audit/verify";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// A deploy whose label key holds a NUL character, or whose value holds an
// unpaired UTF-16 surrogate, used to create and start the container and then
// fail with 500 when Postgres refused the audit record: no audit event, no
// Deployment. It is refused at input validation now, before anything is done,
// naming the field, over tRPC and the REST API alike.
// The host is a plain row: validation comes before any host is contacted.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

const BAD_SPECS = [
  { what: "a NUL in a label key", spec: { image: "busybox", name: "nul-key", labels: { "evil\u0000key": "x" } }, message: /label name can't contain a NUL character/ },
  { what: "an unpaired surrogate in a label value", spec: { image: "busybox", name: "lone-surrogate", labels: { note: "broken \uD800 value" } }, message: /label value can't contain an unpaired UTF-16 surrogate/ },
  { what: "a NUL in a command argument", spec: { image: "busybox", name: "nul-arg", command: ["sh", "-c", "echo\u0000"] }, message: /command argument can't contain a NUL character/ },
  { what: "an unpaired surrogate in an environment variable's name", spec: { image: "busybox", name: "lone-env", env: [{ name: "A\uDC00", value: "1" }] }, message: /variable name can't contain an unpaired UTF-16 surrogate/ },
];

describe("deploy input Postgres can't store is refused with 400 (real gateway, real Postgres)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let hostId: string;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase("unstorable");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = (await database.db.host.create({ data: { name: "row-only", address: "192.0.2.60" } })).id;
    const created = await owner.trpc<{ secret: string }>("tokens.create", { name: "unstorable" });
    expect(created.error).toBeUndefined();
    token = created.data!.secret;
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it.each(BAD_SPECS)("tRPC containers.deploy with $what: 400 naming the field, nothing created, the attempt audited", async ({ spec, message }) => {
    const res = await owner.trpc("containers.deploy", { hostId, spec });
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe("BAD_REQUEST");
    expect(res.error?.message).toMatch(message);

    expect(await database.db.deployment.count()).toBe(0);
    // Refused before any host was contacted: no intent was recorded.
    expect(await database.db.auditEvent.count({ where: { action: "containers.deploy.intent" } })).toBe(0);
    const event = await database.db.auditEvent.findFirst({ where: { action: "containers.deploy", params: { path: ["spec", "name"], equals: spec.name } }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ outcome: "error", hostId, errorMessage: expect.stringMatching(message) });
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
  });

  it.each(BAD_SPECS)("REST POST /api/v1/hosts/{id}/containers with $what: 400 naming the field, nothing created, the attempt audited", async ({ spec, message }) => {
    // JSON.stringify writes NUL as \u0000 and an unpaired surrogate as \udXXX: valid JSON carrying them.
    const res = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/containers`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(spec),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toMatch(message);

    expect(await database.db.deployment.count()).toBe(0);
    expect(await database.db.auditEvent.count({ where: { action: "containers.deploy.intent" } })).toBe(0);
    const event = await database.db.auditEvent.findFirst({ where: { action: "api.v1.containers.deploy", requestId: res.headers.get("x-request-id")! } });
    expect(event).toMatchObject({ outcome: "error", hostId });
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
  });
});
