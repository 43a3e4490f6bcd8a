import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { addUser, type TestUser } from "../fixtures/console-users";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// Every role manages its own API tokens (issue 15 item 18), against the real
// gateway over HTTP. The database starts as one from before the change (the
// Viewer and Auditor roles without tokens.manage): the gateway brings the
// built-in roles up to date when it starts.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const READ = ["hosts.read", "containers.read", "images.read"];

describe("own API tokens for every role (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let group: string;
  let hostInGroup: string;
  let otherHost: string;

  const api = (path: string, secret: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/api/v1${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${secret}` } });

  async function createToken(user: TestUser, input: Record<string, unknown>): Promise<string> {
    const res = await user.client.trpc<{ secret: string }>("tokens.create", input);
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!.secret;
  }

  beforeAll(async () => {
    database = await createTestDatabase("owntok");
    // As a database from before: the read-only roles had no tokens.manage.
    await database.db.role.update({ where: { name: "Viewer" }, data: { permissions: [...READ, "containers.logs"] } });
    await database.db.role.update({ where: { name: "Auditor" }, data: { permissions: [...READ, "audit.read", "audit.export"] } });
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    group = (await owner.trpc<{ id: string }>("hosts.createGroup", { name: "team" })).data!.id;
    hostInGroup = (await database.db.host.create({ data: { name: "team-1", address: "192.0.2.1", hostGroupId: group } })).id;
    otherHost = (await database.db.host.create({ data: { name: "other-1", address: "192.0.2.2" } })).id;
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("the upgraded built-in roles all hold tokens.manage", async () => {
    for (const role of await database.db.role.findMany({ where: { builtIn: true } })) {
      expect(role.permissions, role.name).toContain("tokens.manage");
    }
  });

  it("a Viewer creates a token and uses it read-only over /api/v1; it can do nothing more", async () => {
    const viewer = await addUser(owner, database.db, "viewer@example.test", [{ role: "Viewer" }]);
    const options = await viewer.client.trpc<{ permissions: { name: string }[] }>("tokens.options", undefined, "query");
    expect(options.error).toBeUndefined();
    expect(options.data!.permissions.map((p) => p.name).sort()).toEqual([...READ, "containers.logs", "stacks.read", "alerts.read"].sort());

    const secret = await createToken(viewer, { name: "read-only automation" });
    const hosts = await api("/hosts", secret);
    expect(hosts.status).toBe(200);
    expect(((await hosts.json()) as { id: string }[]).map((h) => h.id).sort()).toEqual([hostInGroup, otherHost].sort());
    expect((await api(`/hosts/${hostInGroup}/containers`, secret)).status).toBe(200);

    // Writes are refused (and audited with the token as the actor), exactly as for the Viewer.
    const deploy = await api(`/hosts/${hostInGroup}/containers`, secret, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image: "busybox:latest" }),
    });
    expect(deploy.status).toBe(403);
    expect((await api(`/hosts/${hostInGroup}/containers/web/stop`, secret, { method: "POST" })).status).toBe(403);
    expect((await api(`/hosts/${hostInGroup}/containers/web`, secret, { method: "DELETE" })).status).toBe(403);
    expect((await api("/audit/events", secret)).status).toBe(403);
    // Tokens never mint tokens.
    expect((await api("/tokens", secret, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(403);
    const denial = await database.db.auditEvent.findFirst({ where: { actorType: "token", action: "api.v1.containers.deploy", outcome: "denied" } });
    expect(denial?.actorLabel).toBe("read-only automation (viewer@example.test)");

    // More than the Viewer holds can't be asked for.
    const more = await viewer.client.trpc("tokens.create", { name: "more", permissions: ["containers.deploy"] });
    expect(more.error?.code).toBe("FORBIDDEN");

    // Its own tokens, listed and revoked by itself.
    const listed = await viewer.client.trpc<{ id: string; name: string }[]>("tokens.list", undefined, "query");
    expect(listed.data!.map((t) => t.name)).toEqual(["read-only automation"]);
    expect((await viewer.client.trpc("tokens.revoke", { id: listed.data![0]!.id })).error).toBeUndefined();
    expect((await api("/hosts", secret)).status).toBe(401);
  });

  it("a Viewer bound to one host group makes tokens too, and they see that group only", async () => {
    const scoped = await addUser(owner, database.db, "team-viewer@example.test", [{ role: "Viewer", scope: { type: "hostGroup", id: group } }]);
    const secret = await createToken(scoped, { name: "team reader" });
    const hosts = (await (await api("/hosts", secret)).json()) as { id: string }[];
    expect(hosts.map((h) => h.id)).toEqual([hostInGroup]);
    expect((await api(`/hosts/${otherHost}/containers`, secret)).status).toBe(403);
    expect((await api(`/hosts/${hostInGroup}/containers`, secret)).status).toBe(200);
  });

  it("an Auditor creates a token that reads the audit log and changes nothing", async () => {
    const auditor = await addUser(owner, database.db, "auditor@example.test", [{ role: "Auditor" }]);
    const secret = await createToken(auditor, { name: "siem" });
    expect((await api("/audit/events?limit=5", secret)).status).toBe(200);
    expect((await api(`/hosts/${hostInGroup}/containers/web/stop`, secret, { method: "POST" })).status).toBe(403);
  });

  it("a custom role without tokens.manage still can't make tokens, and the refusal is audited", async () => {
    expect((await owner.trpc("roles.create", { name: "No tokens", permissions: READ })).error).toBeUndefined();
    const user = await addUser(owner, database.db, "notokens@example.test", [{ role: "No tokens" }]);
    const denied = await user.client.trpc("tokens.create", { name: "nope" });
    expect(denied.error?.code).toBe("FORBIDDEN");
    expect(await database.db.auditEvent.findFirst({ where: { action: "tokens.create", outcome: "denied", actorId: user.id } })).not.toBeNull();
  });
});
