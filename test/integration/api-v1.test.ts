import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";
import { OpenApiClient } from "../fixtures/openapi-client";

// The REST API's document, reference page and the resources that need no
// host connection, against the real gateway (built Next app, real Postgres).
// Hosts are plain rows; what needs a live host is in fleet/api-v1-host.test.ts.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

interface CreatedToken {
  token: { id: string; name: string };
  secret: string;
}
interface AuditPage {
  events: { id: string; action: string; actorId: string | null; outcome: string }[];
  olderCursor: string | null;
  newerCursor: string | null;
}

describe("REST API v1: document, reference, audit, tokens (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let hostA: { id: string };
  let hostB: { id: string };
  let full: CreatedToken;
  let api: OpenApiClient;

  async function createToken(input: Record<string, unknown>): Promise<CreatedToken> {
    const res = await owner.trpc<CreatedToken>("tokens.create", input);
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  }

  beforeAll(async () => {
    database = await createTestDatabase("apiv1doc");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostA = await database.db.host.create({ data: { name: "doc-host-a", address: "192.0.2.20" }, select: { id: true } });
    hostB = await database.db.host.create({ data: { name: "doc-host-b", address: "192.0.2.21" }, select: { id: true } });
    full = await createToken({ name: "everything" });
    api = await OpenApiClient.load(gateway.url, full.secret);
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("serves the OpenAPI 3.1 document without a token, and it validates", async () => {
    const res = await fetch(`${gateway.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/hosts/{hostId}/containers", "/hosts/{hostId}/images/pull", "/audit/events", "/audit/export"]));
  });

  it("serves the reference page without a token: every resource, permissions and curl examples, nothing loaded from elsewhere", async () => {
    const res = await fetch(`${gateway.url}/api/v1/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    for (const resource of ["Hosts", "Containers", "Images", "Deployments", "Audit", "Tokens"]) expect(html).toContain(`<h2 id="${resource.toLowerCase()}">${resource}</h2>`);
    expect(html).toContain("<code>/api/v1/hosts/{hostId}/containers/{containerId}/logs</code>");
    expect(html).toContain("Permission: <code>containers.deploy</code>");
    expect(html).toContain("Authorization: Bearer $BERTH_TOKEN");
    expect(html).not.toMatch(/<script|src=|https?:\/\//);
  });

  it("every other endpoint needs a token: 401 with WWW-Authenticate", async () => {
    const anonymous = api.withToken(null);
    for (const [id, path] of [
      ["getHost", { hostId: hostA.id }],
      ["listFleetContainers", {}],
      ["listDeployments", {}],
      ["queryAudit", {}],
      ["exportAudit", {}],
    ] as const) {
      const res = await anonymous.call(id, { path });
      expect(res.status, id).toBe(401);
      expect(res.schemaErrors).toEqual([]);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("rate limiting: every refused request is on record, the trailing ones included once the client stops", async () => {
    const burster = await createToken({ name: "burster" });
    const statuses = await Promise.all(
      Array.from({ length: 70 }, () => fetch(`${gateway.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${burster.secret}` } }).then(async (r) => (await r.arrayBuffer(), r.status))),
    );
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBeGreaterThan(1);
    expect(statuses.filter((s) => s !== 429 && s !== 200)).toEqual([]);
    // The first refusal is recorded at once, the rest as a count, written after the client has gone quiet.
    const recorded = async () => {
      const rows = await database.db.auditEvent.findMany({ where: { actorId: burster.token.id, action: "api.v1.hosts.list", outcome: "denied" } });
      return rows.reduce((n, r) => n + Number((r.params as { refused?: number }).refused ?? 0), 0);
    };
    let total = 0;
    for (let i = 0; i < 100 && total < refused; i++) {
      total = await recorded();
      if (total < refused) await new Promise((r) => setTimeout(r, 100));
    }
    expect(total).toBe(refused);
  });

  it("an unsupported method on a public page is 405 without a token; on a resource, 401 first", async () => {
    const doc = await fetch(`${gateway.url}/api/v1/openapi.json`, { method: "POST" });
    expect(doc.status).toBe(405);
    const resource = await fetch(`${gateway.url}/api/v1/audit/events`, { method: "DELETE" });
    expect(resource.status).toBe(401);
    expect(resource.headers.get("allow")).toBeNull();
    const withToken = await fetch(`${gateway.url}/api/v1/audit/events`, { method: "DELETE", headers: { authorization: `Bearer ${full.secret}` } });
    expect(withToken.status).toBe(405);
    expect(withToken.headers.get("allow")).toBe("GET");
  });

  it("hosts: one host by id through the document; a token scoped to A gets 403 on B, and an id that isn't one is 404", async () => {
    const got = await api.call<{ id: string; name: string; status: string }>("getHost", { path: { hostId: hostA.id } });
    expect(got.status).toBe(200);
    expect(got.schemaErrors).toEqual([]);
    expect(got.body).toMatchObject({ id: hostA.id, name: "doc-host-a" });
    const list = await api.call<{ id: string }[]>("listHosts");
    expect(list.schemaErrors).toEqual([]);
    expect(list.body.map((h) => h.id).sort()).toEqual([hostA.id, hostB.id].sort());

    const onlyA = api.withToken((await createToken({ name: "only a", hostIds: [hostA.id] })).secret);
    expect((await onlyA.call("getHost", { path: { hostId: hostA.id } })).status).toBe(200);
    const denied = await onlyA.call<{ error: { code: string } }>("getHost", { path: { hostId: hostB.id } });
    expect(denied.status).toBe(403);
    expect(denied.schemaErrors).toEqual([]);
    const notAnId = await onlyA.call<{ error: { code: string } }>("getHost", { path: { hostId: "not an id!" } });
    expect(notAnId.status).toBe(404);
    expect(notAnId.body.error.code).toBe("NOT_FOUND");
  });

  it("fleet containers and deployments answer empty pages when no host is connected", async () => {
    const containers = await api.call<{ items: unknown[]; total: number }>("listFleetContainers", { query: { state: "running", pageSize: 10 } });
    expect(containers.status, containers.text).toBe(200);
    expect(containers.schemaErrors).toEqual([]);
    expect(containers.body).toMatchObject({ items: [], total: 0 });
    const deployments = await api.call("listDeployments", { query: { limit: 5 } });
    expect(deployments.schemaErrors).toEqual([]);
    expect(deployments.body).toEqual({ items: [], total: 0, nextOffset: null });
    const bad = await api.call<{ error: { message: string } }>("listFleetContainers", { query: { state: "sleeping" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("state");
  });

  it("audit events: filters and cursor pages (no repeats, newest first), as the console's audit.list", async () => {
    // Some records to page through: five denied token-management calls.
    for (let i = 0; i < 5; i++) expect((await api.call("listTokens")).status).toBe(403);
    const seen: string[] = [];
    let before: string | undefined;
    // Bounded: at most 10 pages of 2.
    for (let page = 0; page < 10; page++) {
      const res = await api.call<AuditPage>("queryAudit", { query: { action: "api.v1.tokens.list", outcome: "denied", limit: 2, ...(before ? { before } : {}) } });
      expect(res.status, res.text).toBe(200);
      expect(res.schemaErrors).toEqual([]);
      seen.push(...res.body.events.map((e) => e.id));
      if (!res.body.olderCursor) break;
      before = res.body.olderCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect([...seen].sort((a, b) => Number(b) - Number(a))).toEqual(seen);
    const stored = await database.db.auditEvent.findMany({ where: { action: "api.v1.tokens.list" }, orderBy: { id: "desc" } });
    expect(stored.map((e) => e.id.toString())).toEqual(seen);
    expect(stored.every((e) => e.actorType === "token" && e.actorId === full.token.id)).toBe(true);

    const badDate = await api.call<{ error: { message: string } }>("queryAudit", { query: { from: "yesterday" } });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.message).toContain("from");
  });

  it("tokens can't be listed, created or revoked with a token: 403 naming where to do it, each audited", async () => {
    for (const [id, path] of [
      ["listTokens", {}],
      ["createToken", {}],
      ["revokeToken", { tokenId: full.token.id }],
    ] as const) {
      const res = await api.call<{ error: { code: string; message: string } }>(id, { path });
      expect(res.status, id).toBe(403);
      expect(res.schemaErrors).toEqual([]);
      expect(res.body.error.message).toMatch(/tokens\.manage is never granted to a token/);
    }
    for (const action of ["api.v1.tokens.create", "api.v1.tokens.revoke"]) {
      expect(await database.db.auditEvent.findFirst({ where: { action, outcome: "denied", actorId: full.token.id } }), action).not.toBeNull();
    }
    expect((await database.db.apiToken.findUniqueOrThrow({ where: { id: full.token.id } })).revokedAt).toBeNull();
  });

  it("audit needs audit.read and its export audit.export: a hosts-only token is refused both, audited", async () => {
    const hostsOnly = api.withToken((await createToken({ name: "hosts only", permissions: ["hosts.read"] })).secret);
    const events = await hostsOnly.call<{ error: { message: string } }>("queryAudit");
    expect(events.status).toBe(403);
    expect(events.body.error.message).toMatch(/audit\.read/);
    const exported = await hostsOnly.call<{ error: { message: string } }>("exportAudit", { query: { format: "csv" } });
    expect(exported.status).toBe(403);
    expect(exported.schemaErrors).toEqual([]);
    expect(exported.body.error.message).toMatch(/audit\.export/);
    const denials = await database.db.auditEvent.findMany({ where: { actorLabel: { startsWith: "hosts only" }, outcome: "denied" } });
    expect(denials.map((d) => d.action)).toEqual(expect.arrayContaining(["api.v1.audit.events", "audit.list", "api.v1.audit.export"]));

    const ndjson = await api.call<{ action: string }[]>("exportAudit", { query: { action: "api.v1.audit", format: "ndjson" } });
    expect(ndjson.status).toBe(200);
    expect(ndjson.schemaErrors).toEqual([]);
    expect(ndjson.body.map((e) => e.action)).toEqual(expect.arrayContaining(["api.v1.audit.events", "api.v1.audit.export"]));
  });
});
