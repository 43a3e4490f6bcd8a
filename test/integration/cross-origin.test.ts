import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// Cookie-authenticated state changes refuse requests that don't come from the
// console's own pages, over HTTP against the real gateway (built Next app, real
// Postgres); Bearer-token APIs are unaffected; every response carries the
// security headers. Nothing asserted here is a call: only answers, what is
// stored and what is audited.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
/** Another origin of the same site: same host, another port. */
const OTHER_ORIGIN = "http://127.0.0.1:1";

interface ActionManifest {
  node: Record<string, { exportedName?: string; filename?: string }>;
}

describe("cross-origin requests and security headers (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;

  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  const roleNamed = (name: string) => database.db.role.findUnique({ where: { name } });
  const trpcBody = (input: unknown) => JSON.stringify(superjson.serialize(input));

  /** A raw request carrying `client`'s session cookie and exactly the given headers (no Origin unless given). */
  const raw = (client: HttpClient, urlPath: string, init: RequestInit & { headers?: Record<string, string> }) =>
    fetch(`${gateway.url}${urlPath}`, { ...init, redirect: "manual", headers: { cookie: client.cookieHeader(), ...init.headers } });

  async function stillSignedIn(client: HttpClient): Promise<boolean> {
    const me = await client.trpc<{ email: string }>("me.get", undefined, "query");
    return me.data?.email !== undefined;
  }

  async function signedIn(): Promise<HttpClient> {
    const client = new HttpClient(gateway.url);
    expect((await client.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    return client;
  }

  beforeAll(async () => {
    database = await createTestDatabase("xorigin");
    // If a forged hosts.addLocal ever got through, "this machine" would start this stub, not a real agent.
    const stubDir = await mkdtemp(path.join(os.tmpdir(), "berth-agent-stub-"));
    const stub = path.join(stubDir, "agent-stub.mjs");
    await writeFile(stub, "process.on('SIGTERM', () => process.exit(0));\nsetTimeout(() => {}, 600_000);\n");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_AGENT_BUNDLE: stub,
      BERTH_MAX_BODY_BYTES: String(64 * 1024),
    });
    owner = await signedIn();
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  describe("tRPC mutations", () => {
    it("JSON from another origin is refused, changes nothing and is audited", async () => {
      const res = await owner.fetch("/api/trpc/roles.create", {
        method: "POST",
        headers: { origin: OTHER_ORIGIN, "sec-fetch-site": "same-site", "content-type": "application/json" },
        body: trpcBody({ name: "Forged JSON", permissions: ["hosts.read"] }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/cross-origin/i);
      expect(await roleNamed("Forged JSON")).toBeNull();
      const event = await lastEvent({ action: "roles.create", outcome: "denied" });
      expect(event).toMatchObject({ actorType: "user", actorLabel: OWNER.email });
      expect(event!.errorMessage).toMatch(/cross-origin request refused/i);
      expect(event!.params).toMatchObject({ origin: OTHER_ORIGIN });
    });

    it("without Origin, only Sec-Fetch-Site: same-origin is accepted; neither header fails closed", async () => {
      const send = (name: string, headers: Record<string, string>) =>
        raw(owner, "/api/trpc/roles.create", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: trpcBody({ name, permissions: ["hosts.read"] }),
        });
      for (const [name, headers] of [
        ["No evidence", {}],
        ["Same site", { "sec-fetch-site": "same-site" }],
        ["Cross site", { "sec-fetch-site": "cross-site" }],
        ["Typed in", { "sec-fetch-site": "none" }],
        ["Opaque origin", { origin: "null" }],
        ["Other port", { origin: OTHER_ORIGIN }],
        ["Other name", { origin: "http://localhost.evil.example" }],
      ] as const) {
        const res = await send(name, headers);
        expect(res.status, name).toBe(403);
        expect(await roleNamed(name), name).toBeNull();
      }
      expect((await send("Same origin by fetch metadata", { "sec-fetch-site": "same-origin" })).status).toBe(200);
      expect(await roleNamed("Same origin by fetch metadata")).not.toBeNull();
    });

    it("the console's own JSON mutations still work", async () => {
      const created = await owner.trpc<{ id: string }>("roles.create", { name: "Own page", permissions: ["hosts.read"] });
      expect(created.error).toBeUndefined();
      expect(await roleNamed("Own page")).not.toBeNull();
    });

    it("a same-origin mutation that isn't application/json is refused with 415 before it runs, and audited", async () => {
      const form = new FormData();
      form.set("name", "forged-host");
      for (const body of [form, new URLSearchParams({ name: "forged-host" }), "{}"]) {
        const res = await owner.fetch("/api/trpc/hosts.addLocal", { method: "POST", body });
        expect(res.status).toBe(415);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
      }
      // An empty body with no type at all, which tRPC would otherwise take as an empty input.
      expect((await owner.fetch("/api/trpc/hosts.addLocal", { method: "POST" })).status).toBe(415);
      expect(await database.db.host.count()).toBe(0);
      const hosts = await owner.trpc<unknown[]>("hosts.list", undefined, "query");
      expect(hosts.data).toEqual([]);
      const event = await lastEvent({ action: "hosts.addLocal" });
      expect(event).toMatchObject({ outcome: "denied", actorLabel: OWNER.email });
      expect(event!.errorMessage).toMatch(/application\/json/);
    });

    it("a batched call from another origin is refused as a whole and each procedure's refusal is audited", async () => {
      const res = await owner.fetch("/api/trpc/roles.create,users.create?batch=1", {
        method: "POST",
        headers: { origin: OTHER_ORIGIN, "content-type": "application/json" },
        body: JSON.stringify({
          0: superjson.serialize({ name: "Batched", permissions: ["hosts.read"] }),
          1: superjson.serialize({ email: "batched@example.test", password: "batched-password-1" }),
        }),
      });
      expect(res.status).toBe(403);
      expect(await roleNamed("Batched")).toBeNull();
      expect(await database.db.user.findUnique({ where: { email: "batched@example.test" } })).toBeNull();
      for (const action of ["roles.create", "users.create"]) {
        expect((await lastEvent({ action }))?.errorMessage, action).toMatch(/cross-origin/i);
      }
    });
  });

  describe("Auth.js, server actions and the audit export", () => {
    it("Auth.js sign-out and sign-in posted from another origin are refused and audited; the session lives on", async () => {
      const victim = await signedIn();
      const csrf = (await (await victim.fetch("/api/auth/csrf")).json()) as { csrfToken: string };
      const signOut = await victim.fetch("/api/auth/signout", {
        method: "POST",
        headers: { origin: OTHER_ORIGIN, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: "/sign-in" }),
      });
      expect(signOut.status).toBe(403);
      expect(await stillSignedIn(victim)).toBe(true);
      expect((await lastEvent({ action: "auth.sign_out" }))).toMatchObject({ outcome: "denied", actorLabel: OWNER.email });

      const stranger = new HttpClient(gateway.url, { origin: OTHER_ORIGIN });
      await stranger.signIn(OWNER.email, OWNER.password);
      expect(stranger.hasSession()).toBe(false);
      const refused = await lastEvent({ action: "auth.sign_in", outcome: "denied" });
      expect(refused!.errorMessage).toMatch(/cross-origin/i);
    });

    it("the sign-out server action refuses another origin and a request with no origin evidence; the session lives on", async () => {
      const manifest = JSON.parse(await readFile(path.resolve(".next/server/server-reference-manifest.json"), "utf8")) as ActionManifest;
      const signOutId = Object.entries(manifest.node).find(([, a]) => a.exportedName === "signOutAction")?.[0];
      expect(signOutId).toBeTruthy();
      const victim = await signedIn();
      const refusals = () => database.db.auditEvent.count({ where: { action: "server_action", outcome: "denied", actorLabel: OWNER.email } });
      const before = await refusals();
      for (const headers of [{ origin: OTHER_ORIGIN }, {} as Record<string, string>]) {
        const res = await raw(victim, "/", {
          method: "POST",
          headers: { "next-action": signOutId!, "content-type": "text/plain;charset=UTF-8", accept: "text/x-component", ...headers },
          body: "[]",
        });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(await stillSignedIn(victim)).toBe(true);
      }
      expect(await refusals()).toBe(before + 2);
      expect((await lastEvent({ action: "server_action" }))!.params).toMatchObject({ method: "POST", path: "/" });
    });

    it("the audit export is refused when opened from another page of the site, and served to the console", async () => {
      for (const headers of [
        { "sec-fetch-site": "same-site" },
        { "sec-fetch-site": "cross-site" },
        { origin: OTHER_ORIGIN },
        {} as Record<string, string>,
      ]) {
        const res = await raw(owner, "/api/audit/export?format=ndjson", { headers });
        expect(res.status, JSON.stringify(headers)).toBe(403);
        expect((await lastEvent({ action: "audit.export" }))?.outcome).toBe("denied");
      }
      // A link the user opened themselves (typed, bookmarked) and the console's own download link.
      expect((await raw(owner, "/api/audit/export?format=ndjson", { headers: { "sec-fetch-site": "none" } })).status).toBe(200);
      const own = await owner.fetch("/api/audit/export?format=csv");
      expect(own.status).toBe(200);
      expect(await own.text()).toMatch(/^id,createdAt/);
    });

    it("requests with a Bearer token are not judged by origin", async () => {
      const token = await owner.trpc<{ secret: string }>("tokens.create", { name: "automation", permissions: [], hostIds: [], hostGroupIds: [] });
      expect(token.error, JSON.stringify(token.error)).toBeUndefined();
      const bearer = { authorization: `Bearer ${token.data!.secret}`, origin: OTHER_ORIGIN, "sec-fetch-site": "cross-site" };
      const list = await fetch(`${gateway.url}/api/v1/hosts`, { headers: bearer });
      expect(list.status).toBe(200);
      const create = await fetch(`${gateway.url}/api/v1/tokens`, { method: "POST", headers: { ...bearer, "content-type": "application/json" }, body: "{}" });
      // The REST API's own answer for this endpoint, not a cross-origin refusal.
      expect(create.status).toBe(403);
      expect(((await create.json()) as { error: { message: string } }).error.message).not.toMatch(/cross-origin/i);
    });
  });

  describe("security headers", () => {
    const EXPECTED = {
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
    };

    /** A GET with the request target exactly as written (fetch would resolve the dot segments first). */
    const rawGet = (target: string) =>
      new Promise<Response>((resolve, reject) => {
        http
          .get({ host: new URL(gateway.url).hostname, port: new URL(gateway.url).port, path: target }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const headers = new Headers();
              for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
              resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers }));
            });
          })
          .on("error", reject);
      });

    function expectSecurityHeaders(res: Response, what: string) {
      for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name), `${what}: ${name}`).toBe(value);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, what).toContain("frame-ancestors 'none'");
      expect(csp, what).toContain("object-src 'none'");
      expect(res.headers.get("permissions-policy"), what).toMatch(/camera=\(\)/);
      // Served over plain HTTP: no HSTS.
      expect(res.headers.get("strict-transport-security"), what).toBeNull();
    }

    it("are on every kind of response: pages, APIs, errors, refusals and static files", async () => {
      const page = await owner.fetch("/");
      expect(page.status).toBe(200);
      expectSecurityHeaders(page, "console page");
      const html = await page.text();
      // Next's inline scripts carry the response's nonce.
      const nonce = /'nonce-([^']+)'/.exec(page.headers.get("content-security-policy") ?? "")?.[1];
      expect(nonce).toBeTruthy();
      expect(html).toContain(`nonce="${nonce}"`);
      const asset = /\/_next\/static\/[^"]+\.js/.exec(html)?.[0];
      expect(asset).toBeTruthy();

      const anonymous = new HttpClient(gateway.url);
      const cases: [string, Promise<Response>, number][] = [
        ["sign-in page", anonymous.fetch("/sign-in"), 200],
        ["redirect to sign-in", anonymous.fetch("/hosts"), 307],
        ["unknown page", owner.fetch("/no-such-page"), 404],
        ["tRPC query", owner.fetch(`/api/trpc/me.get?input=${encodeURIComponent(JSON.stringify({ json: null }))}`), 200],
        ["tRPC refusal", owner.fetch("/api/trpc/roles.create", { method: "POST", headers: { origin: OTHER_ORIGIN }, body: "{}" }), 403],
        ["REST without a token", fetch(`${gateway.url}/api/v1/hosts`), 401],
        ["health", fetch(`${gateway.url}/api/health`), 200],
        ["oversized body", owner.fetch("/api/trpc/roles.create", { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(128 * 1024) }), 413],
        ["dot segments", rawGet("/api/v1/hosts/%2e%2e/containers"), 404],
        ["Docker-API proxy", fetch(`${gateway.url}/api/docker/no-such-host/_ping`), 401],
        ["static file", fetch(`${gateway.url}${asset}`), 200],
      ];
      for (const [what, pending, status] of cases) {
        const res = await pending;
        expect(res.status, what).toBe(status);
        expectSecurityHeaders(res, what);
        await res.arrayBuffer();
      }
    });

    it("add HSTS when the public URL is https", async () => {
      const https = await startGateway({
        DATABASE_URL: database.url,
        BERTH_PUBLIC_URL: "https://berth.example.test",
      });
      try {
        const res = await fetch(`${https.url}/api/health`);
        expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
        expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      } finally {
        await https.stop();
      }
    });
  });
});
