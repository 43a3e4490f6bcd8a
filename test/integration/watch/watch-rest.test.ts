import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { OpenApiClient } from "../../fixtures/openapi-client";

// The registry-watch endpoints of /api/v1 against the real gateway (built
// Next app, real Postgres): answers fit the OpenAPI document, bad input is a
// clear 400 that stores nothing, a deployment the token can't see is refused
// like one that doesn't exist, and changes are audited. The host is a plain
// row: what the watcher does with a live host is in registry-watching.test.ts.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

interface WatchBody {
  id: string;
  enabled: boolean;
  minAgeSeconds: number;
  reference: string;
  window: { days: number[]; start: string; end: string; timeZone: string } | null;
  state: { kind: string; message: string };
}

describe("REST API v1: registry watches (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let api: OpenApiClient;
  let narrow: OpenApiClient;
  let deploymentId: string;

  beforeAll(async () => {
    database = await createTestDatabase("apiv1watch");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const host = await database.db.host.create({ data: { name: "watch-doc-host", address: "192.0.2.30" }, select: { id: true } });
    const other = await database.db.host.create({ data: { name: "watch-other-host", address: "192.0.2.31" }, select: { id: true } });
    deploymentId = (
      await database.db.deployment.create({ data: { hostId: host.id, name: "web", spec: { image: "registry.example:5000/team/web:v1", name: "web" }, status: "running" } })
    ).id;
    const full = await owner.trpc<{ secret: string }>("tokens.create", { name: "everything" });
    api = await OpenApiClient.load(gateway.url, full.data!.secret);
    // A token narrowed to the other host: this deployment is out of its reach.
    const limited = await owner.trpc<{ secret: string }>("tokens.create", { name: "other-host-only", hostIds: [other.id] });
    expect(limited.error, JSON.stringify(limited.error)).toBeUndefined();
    narrow = api.withToken(limited.data!.secret);
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("sets, reads and removes a deployment's watch; the answers fit the document", async () => {
    const body = { enabled: true, intervalSeconds: 600, minAgeSeconds: 3600, window: { days: [5, 1], start: "22:00", end: "02:00", timeZone: "Europe/Berlin" } };
    const set = await api.call<WatchBody>("setDeploymentWatch", { path: { deploymentId }, body });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.schemaErrors).toEqual([]);
    expect(set.body).toMatchObject({ enabled: true, minAgeSeconds: 3600, reference: "registry.example:5000/team/web:v1", window: { days: [1, 5], start: "22:00", end: "02:00" } });

    const got = await api.call<WatchBody | null>("getDeploymentWatch", { path: { deploymentId } });
    expect(got.status).toBe(200);
    expect(got.schemaErrors).toEqual([]);
    expect(got.body?.id).toBe(set.body.id);

    const audit = await database.db.auditEvent.findFirst({ where: { action: "api.v1.watches.set" }, orderBy: { id: "desc" } });
    expect(audit?.outcome).toBe("success");
    expect(audit?.targetId).toBe(deploymentId);

    const removed = await api.call("removeWatch", { path: { watchId: set.body.id } });
    expect(removed.status).toBe(200);
    expect((await api.call("getDeploymentWatch", { path: { deploymentId } })).body).toBeNull();
  });

  it("bad input is a 400 naming the problem, and nothing is stored", async () => {
    const zone = await api.call<{ error: { message: string } }>("setDeploymentWatch", {
      path: { deploymentId },
      body: { enabled: true, window: { days: [1], start: "22:00", end: "02:00", timeZone: "Mars/Olympus" } },
    });
    expect(zone.status).toBe(400);
    expect(JSON.stringify(zone.body)).toContain("IANA time zone");
    const unknownKey = await api.call("setDeploymentWatch", { path: { deploymentId }, rawBody: JSON.stringify({ enabled: true, minAge: 5 }) });
    expect(unknownKey.status).toBe(400);
    expect(JSON.stringify(unknownKey.body)).toContain("minAge");
    const badTime = await api.call("setDeploymentWatch", { path: { deploymentId }, rawBody: JSON.stringify({ enabled: true, window: { days: [1], start: "25:00", end: "02:00", timeZone: "UTC" } }) });
    expect(badTime.status).toBe(400);
    expect(await database.db.imageWatch.count()).toBe(0);
  });

  it("a deployment out of the token's reach is refused like a missing one, and the denial is audited", async () => {
    const denied = await narrow.call("setDeploymentWatch", { path: { deploymentId }, body: { enabled: true } });
    expect(denied.status).toBe(403);
    const missing = await api.call("getDeploymentWatch", { path: { deploymentId: "no-such-deployment" } });
    expect(missing.status).toBe(403);
    expect(await database.db.imageWatch.count()).toBe(0);
    const audit = await database.db.auditEvent.findFirst({ where: { action: "api.v1.watches.set", outcome: "denied" } });
    expect(audit).not.toBeNull();
  });
});
