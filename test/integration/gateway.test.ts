import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../server/audit/verify";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("gateway over HTTP (real server, real Postgres)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let viewerRoleId: string;

  const lastEvent = (where: Record<string, unknown>) =>
    database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });

  async function createUser(email: string, password: string, roleName: string) {
    const roles = await owner.trpc<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    const roleId = roles.data!.roles.find((r) => r.name === roleName)!.id;
    const created = await owner.trpc<{ id: string }>("users.create", { email, password, roleId });
    expect(created.error).toBeUndefined();
    return created.data!.id;
  }

  beforeAll(async () => {
    database = await createTestDatabase("gw");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_MAX_BODY_BYTES: String(64 * 1024),
      // As behind a reverse proxy: lets tests sign in from distinct client IPs.
      BERTH_TRUST_PROXY: "1",
    });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    viewerRoleId = (await database.db.role.findUniqueOrThrow({ where: { name: "Viewer" } })).id;
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("the owner from BERTH_ADMIN_EMAIL signs in, and the sign-in is audited with the source IP", async () => {
    const me = await owner.trpc<{ email: string; owner: boolean; permissions: string[] }>("me.get", undefined, "query");
    expect(me.data).toMatchObject({ email: OWNER.email, owner: true });
    expect(me.data!.permissions).toContain("users.manage");
    const event = await lastEvent({ action: "auth.sign_in", outcome: "success", actorLabel: OWNER.email });
    expect(event?.sourceIp).toBe("127.0.0.1");
    expect(event?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a Viewer calling a mutation directly over tRPC HTTP gets FORBIDDEN, and the denial is audited", async () => {
    const viewerId = await createUser("viewer1@example.test", "viewer-password-1", "Viewer");
    const viewer = new HttpClient(gateway.url, { "user-agent": "berth-test/denial" });
    expect((await viewer.signIn("viewer1@example.test", "viewer-password-1")).ok).toBe(true);

    const attempt = await viewer.trpc("users.create", { email: "sneaky@example.test", password: "sneaky-password-1" });
    expect(attempt.status).toBe(403);
    expect(attempt.error?.code).toBe("FORBIDDEN");
    expect(await database.db.user.findUnique({ where: { email: "sneaky@example.test" } })).toBeNull();

    const listing = await viewer.trpc("users.list", undefined, "query");
    expect(listing.error?.code).toBe("FORBIDDEN");

    const denial = await lastEvent({ actorId: viewerId, action: "users.create" });
    expect(denial).toMatchObject({ outcome: "denied", actorType: "user", userAgent: "berth-test/denial" });
    // The password the viewer sent is not in the log.
    expect(JSON.stringify(denial!.params)).not.toContain("sneaky-password-1");
    expect(denial!.params).toMatchObject({ email: "sneaky@example.test", password: "[redacted]" });
    expect(await lastEvent({ actorId: viewerId, action: "users.list", outcome: "denied" })).not.toBeNull();
  });

  it("without a session, a mutation is UNAUTHORIZED and audited as an anonymous denial", async () => {
    const anonymous = new HttpClient(gateway.url);
    const res = await anonymous.trpc("roles.create", { name: "Nope", permissions: ["hosts.read"] });
    expect(res.status).toBe(401);
    expect(await database.db.role.findUnique({ where: { name: "Nope" } })).toBeNull();
    expect(await lastEvent({ action: "roles.create", actorType: "anonymous" })).toMatchObject({ outcome: "denied" });
  });

  it("malformed input gets a 400 with the zod message, and nothing is written", async () => {
    const usersBefore = await database.db.user.count();
    const res = await owner.trpc("users.create", { email: "not-an-email", password: "short" });
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe("BAD_REQUEST");
    expect(res.error?.message).toContain("Enter a valid email address");
    expect(res.error?.message).toContain("at least 12 characters");
    expect(await database.db.user.count()).toBe(usersBefore);

    const wrongShape = await owner.trpc("roles.create", { name: "X".repeat(500), permissions: ["no.such.permission"] });
    expect(wrongShape.status).toBe(400);
    expect(await database.db.role.count({ where: { builtIn: false } })).toBe(0);
  });

  it("oversized bodies are refused with 413 before reaching a handler", async () => {
    const big = JSON.stringify({ json: { email: "big@example.test", password: "x".repeat(200 * 1024) } });
    const declared = await owner.fetch("/api/trpc/users.create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");

    // A chunked body (no Content-Length) is cut off at the same limit.
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("x".repeat(8 * 1024)));
        c.close();
      },
    });
    const streamed = await owner.fetch("/api/trpc/users.create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await database.db.user.findUnique({ where: { email: "big@example.test" } })).toBeNull();
  });

  it("locks sign-in after 5 failures for an account, refuses even the right password, and audits the refusal", async () => {
    await createUser("target@example.test", "target-password-1", "Viewer");
    // Each attempt from a different address: the account lock alone must stop them.
    let n = 0;
    const fromNewIp = () => new HttpClient(gateway.url, { "x-forwarded-for": `198.51.100.${++n}` });
    for (let i = 0; i < 5; i++) {
      const r = await fromNewIp().signIn("target@example.test", `wrong-password-${i}`);
      expect(r.ok).toBe(false);
      expect(r.location).toContain("code=invalid");
    }
    const rightPassword = new HttpClient(gateway.url, { "x-forwarded-for": "198.51.100.99" });
    const refused = await rightPassword.signIn("target@example.test", "target-password-1");
    expect(refused.ok).toBe(false);
    expect(refused.location).toContain("code=locked");
    expect(rightPassword.hasSession()).toBe(false);
    expect(refused.location).not.toContain("target-password");
    const event = await lastEvent({ action: "auth.sign_in", actorLabel: "target@example.test" });
    expect(event).toMatchObject({ outcome: "denied" });
    expect(event!.errorMessage).toMatch(/locked out after 5 failed attempts/);
    const failures = await database.db.auditEvent.count({
      where: { action: "auth.sign_in", actorLabel: "target@example.test", errorMessage: "wrong email or password" },
    });
    expect(failures).toBe(5);
  });

  it("locks sign-in after 5 failures from one IP, across accounts, while other IPs still sign in", async () => {
    await createUser("bystander@example.test", "bystander-pass-1", "Viewer");
    const attacker = new HttpClient(gateway.url, { "x-forwarded-for": "203.0.113.7" });
    for (let i = 0; i < 5; i++) expect((await attacker.signIn(`guess${i}@example.test`, "guess-password")).ok).toBe(false);
    const blocked = await attacker.signIn("bystander@example.test", "bystander-pass-1");
    expect(blocked.location).toContain("code=locked");
    const elsewhere = new HttpClient(gateway.url, { "x-forwarded-for": "203.0.113.8" });
    expect((await elsewhere.signIn("bystander@example.test", "bystander-pass-1")).ok).toBe(true);
    const refusal = await lastEvent({ action: "auth.sign_in", sourceIp: "203.0.113.7" });
    expect(refusal).toMatchObject({ outcome: "denied", actorLabel: "bystander@example.test" });
    expect(refusal!.errorMessage).toMatch(/locked out/);
  });

  it("a disabled user is refused at once, even with a live session", async () => {
    const userId = await createUser("soon-disabled@example.test", "disable-password-1", "Viewer");
    const user = new HttpClient(gateway.url);
    expect((await user.signIn("soon-disabled@example.test", "disable-password-1")).ok).toBe(true);
    expect((await user.trpc("me.get", undefined, "query")).data).toMatchObject({ email: "soon-disabled@example.test" });

    const disabled = await owner.trpc("users.setDisabled", { userId, disabled: true });
    expect(disabled.error).toBeUndefined();

    // The same cookie no longer works: not for the API, not for pages.
    expect((await user.trpc("me.get", undefined, "query")).error?.code).toBe("UNAUTHORIZED");
    const page = await user.fetch("/audit");
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toContain("/sign-in");
    // And signing in again is refused.
    const again = new HttpClient(gateway.url);
    expect((await again.signIn("soon-disabled@example.test", "disable-password-1")).location).toContain("code=disabled");
  });

  it("sign-out ends the session server-side and is audited", async () => {
    const userId = await createUser("leaver@example.test", "leaver-password-1", "Viewer");
    const user = new HttpClient(gateway.url);
    await user.signIn("leaver@example.test", "leaver-password-1");
    expect(await database.db.session.count({ where: { userId } })).toBe(1);
    await user.signOut();
    expect(await database.db.session.count({ where: { userId } })).toBe(0);
    expect(await lastEvent({ action: "auth.sign_out", actorId: userId })).toMatchObject({ outcome: "success" });
  });

  it("only an Owner can grant Owner; Admins are refused and audited", async () => {
    const adminId = await createUser("admin@example.test", "admin-password-12", "Admin");
    const admin = new HttpClient(gateway.url);
    await admin.signIn("admin@example.test", "admin-password-12");
    const ownerRole = await database.db.role.findUniqueOrThrow({ where: { name: "Owner" } });
    const res = await admin.trpc("users.bindRole", { userId: adminId, roleId: ownerRole.id, scope: { type: "global" } });
    expect(res.error?.code).toBe("FORBIDDEN");
    expect(await database.db.roleBinding.count({ where: { userId: adminId, roleId: ownerRole.id } })).toBe(0);
    expect(await lastEvent({ actorId: adminId, action: "users.bindRole" })).toMatchObject({ outcome: "denied" });
    // An Admin may still grant ordinary roles.
    const viewerId = (await database.db.user.findUniqueOrThrow({ where: { email: "viewer1@example.test" } })).id;
    const ok = await admin.trpc("users.bindRole", { userId: viewerId, roleId: viewerRoleId, scope: { type: "global" } });
    expect(ok.error?.code).toBe("CONFLICT");
  });

  it("a role bound to a host group covers that group's hosts only (scoped procedures fail closed)", async () => {
    // Hosts are added over SSH in a later release; here they are rows.
    const g1 = await owner.trpc<{ id: string }>("hosts.createGroup", { name: "edge" });
    const g2 = await owner.trpc<{ id: string }>("hosts.createGroup", { name: "core" });
    const h1 = await database.db.host.create({ data: { name: "edge-1", address: "192.0.2.10", hostGroupId: g1.data!.id } });
    const h2 = await database.db.host.create({ data: { name: "core-1", address: "192.0.2.20", hostGroupId: g2.data!.id } });
    const h3 = await database.db.host.create({ data: { name: "loose-1", address: "192.0.2.30" } });

    const userId = await createUser("scoped@example.test", "scoped-password-1", "Viewer");
    const viewerBinding = await database.db.roleBinding.findFirstOrThrow({ where: { userId } });
    expect((await owner.trpc("users.unbindRole", { bindingId: viewerBinding.id })).error).toBeUndefined();
    const operator = await database.db.role.findUniqueOrThrow({ where: { name: "Operator" } });
    const bound = await owner.trpc("users.bindRole", { userId, roleId: operator.id, scope: { type: "hostGroup", id: g1.data!.id } });
    expect(bound.error).toBeUndefined();

    const user = new HttpClient(gateway.url);
    await user.signIn("scoped@example.test", "scoped-password-1");
    const hosts = await user.trpc<{ name: string }[]>("hosts.list", undefined, "query");
    expect(hosts.data!.map((h) => h.name)).toEqual(["edge-1"]);
    const groups = await user.trpc<{ name: string }[]>("hosts.groups", undefined, "query");
    expect(groups.data!.map((g) => g.name)).toEqual(["edge"]);
    expect((await user.trpc<{ name: string }>("hosts.get", { hostId: h1.id }, "query")).data?.name).toBe("edge-1");
    for (const other of [h2.id, h3.id, "no-such-host"]) {
      const res = await user.trpc("hosts.get", { hostId: other }, "query");
      expect(res.error?.code, other).toBe("FORBIDDEN");
    }
    expect(await lastEvent({ actorId: userId, action: "hosts.get", hostId: h2.id })).toMatchObject({ outcome: "denied" });
    // Global-only permissions don't come from a scoped binding.
    expect((await user.trpc("hosts.createGroup", { name: "mine" })).error?.code).toBe("FORBIDDEN");
    expect((await user.trpc("audit.list", {}, "query")).error?.code).toBe("FORBIDDEN");
    expect(await database.db.hostGroup.findUnique({ where: { name: "mine" } })).toBeNull();
  });

  it("200 concurrent audited mutations leave one unbroken chain", async () => {
    const before = await database.db.auditEvent.count();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        owner.trpc("roles.create", { name: `Concurrent ${i}`, permissions: ["hosts.read"] }),
      ),
    );
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(await database.db.auditEvent.count({ where: { action: "roles.create", outcome: "success" } })).toBe(200);
    expect(await database.db.auditEvent.count()).toBe(before + 200);
    const verdict = await verifyAuditChain(database.db);
    expect(verdict).toMatchObject({ ok: true, checked: before + 200 });
    // No two events share a predecessor: the chain never forked.
    const forks = await database.db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM (SELECT "prevHash" FROM "AuditEvent" GROUP BY "prevHash" HAVING count(*) > 1) f`,
    );
    expect(Number(forks[0]!.n)).toBe(0);
  });

  it("exports CSV and NDJSON for audit.export holders, audits each export, and refuses a Viewer", async () => {
    const csv = await owner.fetch("/api/audit/export?format=csv&action=auth.sign_in");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const text = await csv.text();
    const lines = text.trim().split("\r\n");
    expect(lines[0]).toBe(
      "id,createdAt,actorType,actorId,actorLabel,sourceIp,userAgent,action,targetType,targetId,hostId,params,outcome,errorMessage,requestId,prevHash,hash",
    );
    const signIns = await database.db.auditEvent.count({ where: { action: { startsWith: "auth.sign_in" } } });
    expect(lines.length - 1).toBe(signIns);

    const ndjson = await owner.fetch("/api/audit/export?format=ndjson&outcome=denied");
    const rows = (await ndjson.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.outcome === "denied")).toBe(true);

    const exports = await database.db.auditEvent.findMany({ where: { action: "audit.export" }, orderBy: { id: "asc" } });
    expect(exports.map((e) => [e.outcome, (e.params as { format: string }).format])).toEqual([
      ["success", "csv"],
      ["success", "ndjson"],
    ]);

    const viewer = new HttpClient(gateway.url);
    await viewer.signIn("viewer1@example.test", "viewer-password-1");
    const refused = await viewer.fetch("/api/audit/export?format=csv");
    expect(refused.status).toBe(403);
    expect(await lastEvent({ action: "audit.export" })).toMatchObject({ outcome: "denied" });
  });

  it("audit search pages with keyset cursors and filters by actor, outcome and free text", async () => {
    const page1 = await owner.trpc<{ events: { id: string; action: string }[]; olderCursor: string | null; newerCursor: string | null }>(
      "audit.list",
      { limit: 20 },
      "query",
    );
    expect(page1.data!.events).toHaveLength(20);
    expect(page1.data!.newerCursor).toBeNull();
    const page2 = await owner.trpc<{ events: { id: string }[]; newerCursor: string | null }>(
      "audit.list",
      { limit: 20, before: page1.data!.olderCursor },
      "query",
    );
    expect(BigInt(page2.data!.events[0]!.id)).toBeLessThan(BigInt(page1.data!.events[19]!.id));
    const back = await owner.trpc<{ events: { id: string }[] }>("audit.list", { limit: 20, after: page2.data!.newerCursor }, "query");
    expect(back.data!.events.map((e) => e.id)).toEqual(page1.data!.events.map((e) => e.id));

    const search = await owner.trpc<{ events: { action: string; params: unknown }[] }>("audit.list", { q: "Concurrent 17", limit: 50 }, "query");
    expect(search.data!.events.length).toBeGreaterThanOrEqual(1);
    expect(search.data!.events.every((e) => JSON.stringify(e.params).includes("Concurrent 17"))).toBe(true);

    const denied = await owner.trpc<{ events: { outcome: string }[] }>("audit.list", { outcome: "denied", limit: 200 }, "query");
    expect(denied.data!.events.length).toBeGreaterThan(0);
    expect(denied.data!.events.every((e) => e.outcome === "denied")).toBe(true);
  });
  it("an API path with a dot segment (%2e%2e) is answered 404 in the REST error format, not resolved to another route", async () => {
    const created = await owner.trpc<{ secret: string }>("tokens.create", { name: "dot segments" });
    expect(created.error).toBeUndefined();
    const token = created.data!.secret;
    // Sent exactly as written (fetch would resolve the dot segments itself).
    const raw = (path: string) =>
      new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
        const url = new URL(gateway.url);
        const req = http.request({ host: url.hostname, port: url.port, path, method: "GET", headers: { authorization: `Bearer ${token}` } }, (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
        });
        req.on("error", reject);
        req.end();
      });
    for (const path of ["/api/v1/hosts/%2e%2e/containers", "/api/v1/hosts/%2E%2E/containers", "/api/v1/hosts/../containers", "/api/v1/hosts/x/containers#/y"]) {
      const r = await raw(path);
      expect(r.status, `${path}: ${r.body}`).toBe(404);
      expect(r.type).toMatch(/^application\/json/);
      const body = JSON.parse(r.body) as { error: { code: string; message: string; requestId: string } };
      expect(body.error).toMatchObject({ code: "NOT_FOUND", requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    }
  });
});
