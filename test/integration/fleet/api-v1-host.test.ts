import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { OpenApiClient } from "../../fixtures/openapi-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The REST API against a real gateway process, a real SSH test host running
// our agent and a real registry. The client is driven by the gateway's own
// OpenAPI document: URLs from its path templates, bodies and answers checked
// against its schemas.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const MAX_BODY = 64 * 1024;

interface ApiError {
  error: { code: string; message: string; requestId: string | null; violations?: { rule: string; field: string; label: string }[] };
}
interface CreatedToken {
  token: { id: string; name: string };
  secret: string;
}

/** The containers on the host, asked of its agent directly (not through the gateway). */
function agentContainers(socket: string): Promise<{ Id: string; Names: string[]; State: string }[]> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: "/v1.43/containers/json?all=1", timeout: 30_000 }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve(JSON.parse(text) as { Id: string; Names: string[]; State: string }[]));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("agent timed out")));
    req.end();
  });
}

/** A request with a path sent exactly as written (fetch would resolve the dot segments itself). */
function rawRequest(url: string, rawPath: string, token: string, method = "GET"): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: rawPath, headers: { authorization: `Bearer ${token}` }, timeout: 30_000 }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("REST API v1 on a real SSH host, driven by the OpenAPI document", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let host: SshTestHost;
  let hostId: string;
  let ownerToken: CreatedToken;
  let api: OpenApiClient;

  const image = (tag = "latest") => `${registry.hostFor(host.gatewayAddress)}/test/tools:${tag}`;
  const events = (where: Record<string, unknown>) => database.db.auditEvent.findMany({ where, orderBy: { id: "asc" } });

  async function createToken(client: HttpClient, name: string, input: Record<string, unknown> = {}): Promise<CreatedToken> {
    const res = await client.trpc<CreatedToken>("tokens.create", { name, ...input });
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  }

  async function userWithToken(email: string, roleName: string): Promise<CreatedToken> {
    const roles = await owner.trpc<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    const roleId = roles.data!.roles.find((r) => r.name === roleName)!.id;
    const password = `${roleName.toLowerCase()}-password-123`;
    expect((await owner.trpc("users.create", { email, password, roleId })).error).toBeUndefined();
    const client = new HttpClient(gateway.url);
    expect((await client.signIn(email, password)).ok).toBe(true);
    // A Viewer has no tokens.manage: the owner can't mint one for them, so give the role a token-only helper binding.
    if (roleName === "Viewer") {
      const maker = await database.db.role.upsert({ where: { name: "Token maker" }, create: { name: "Token maker", permissions: ["tokens.manage"] }, update: {} });
      const users = await owner.trpc<{ id: string; email: string }[]>("users.list", undefined, "query");
      const userId = users.data!.find((u) => u.email === email)!.id;
      expect((await owner.trpc("users.bindRole", { userId, roleId: maker.id, scope: { type: "global" } })).error).toBeUndefined();
    }
    return createToken(client, `${roleName} token`);
  }

  function expectError(res: { status: number; body: unknown; headers: Headers; schemaErrors: string[] }, status: number, code: string): ApiError["error"] {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.schemaErrors).toEqual([]);
    const error = (res.body as ApiError).error;
    expect(error.code).toBe(code);
    expect(error.requestId).toBe(res.headers.get("x-request-id"));
    return error;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-api-v1-"));
    database = await createTestDatabase("apiv1");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    for (const tag of ["latest", "v1"]) await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:${tag}`);

    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password, BERTH_MAX_BODY_BYTES: String(MAX_BODY) });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);

    hostId = await addHostOverApi(owner, host, {
      name: "api-host",
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });

    ownerToken = await createToken(owner, "automation");
    api = await OpenApiClient.load(gateway.url, ownerToken.secret);
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("deploys, reads logs, stops and removes a container through the document's operations, and the audit query shows it all with the token as actor", async () => {
    const deployed = await api.call<{ containerId: string; deploymentId: string; name: string; overridden: unknown[] }>("deployContainer", {
      path: { hostId },
      body: {
        image: image(),
        name: "api-web",
        command: ["sh", "-c", "echo hello-from-rest; echo oops >&2; exec sleep 600"],
        env: [
          { name: "MODE", value: "api" },
          { name: "API_KEY", value: "rest-s3cret", secret: true },
        ],
        memoryBytes: 64 * 1024 * 1024,
      },
    });
    expect(deployed.status, deployed.text).toBe(201);
    expect(deployed.schemaErrors).toEqual([]);
    expect(deployed.body).toMatchObject({ name: "api-web", overridden: [] });
    const { containerId, deploymentId } = deployed.body;

    // Running on the host, seen through the API and by the agent itself.
    const listed = await api.call<{ containers: { Id: string; State: string }[]; stale: boolean }>("listContainers", { path: { hostId } });
    expect(listed.schemaErrors).toEqual([]);
    expect(listed.body.stale).toBe(false);
    expect(listed.body.containers.find((c) => c.Id === containerId)?.State).toBe("running");
    expect((await agentContainers(host.agent.socket)).map((c) => c.Names[0])).toContain("/api-web");

    const inspected = await api.call<{ State: { Running: boolean }; Config: { Env: string[] } }>("inspectContainer", { path: { hostId, containerId: "api-web" } });
    expect(inspected.schemaErrors).toEqual([]);
    expect(inspected.body.State.Running).toBe(true);
    expect(inspected.body.Config.Env).toContain("API_KEY=••••••");
    expect(inspected.text).not.toContain("rest-s3cret");

    // The saved deployment: the secret masked, as the console shows it.
    const saved = await api.call<{ name: string; spec: { env: { name: string; value: string }[] } }>("getDeployment", { path: { hostId, deploymentId } });
    expect(saved.schemaErrors).toEqual([]);
    expect(saved.body.name).toBe("api-web");
    expect(saved.text).not.toContain("rest-s3cret");
    const page = await api.call<{ items: { id: string; hostName: string }[]; total: number }>("listDeployments", { query: { hostId, limit: 10 } });
    expect(page.schemaErrors).toEqual([]);
    expect(page.body.items.map((d) => [d.id, d.hostName])).toEqual([[deploymentId, "api-host"]]);

    // Logs: JSON lines and plain text.
    const lines = await waitFor(
      () => api.call<{ stream: string; text: string }[]>("containerLogs", { path: { hostId, containerId }, query: { format: "ndjson", tail: 50 } }),
      (r) => r.status === 200 && r.body.length >= 2,
    );
    expect(lines.contentType).toBe("application/x-ndjson");
    expect(lines.schemaErrors).toEqual([]);
    expect(lines.body).toEqual(expect.arrayContaining([{ stream: "stdout", text: "hello-from-rest\n" }, { stream: "stderr", text: "oops\n" }]));
    const text = await api.call<string>("containerLogs", { path: { hostId, containerId }, query: { tail: 1, timestamps: true } });
    expect(text.contentType).toBe("text/plain");
    expect(text.body.trim().split("\n")).toHaveLength(1);
    expect(text.body).toMatch(/^\d{4}-\d\d-\d\dT\S+ /);

    const stats = await api.call<{ memoryBytes: number; memoryLimitBytes: number }>("containerStats", { path: { hostId, containerId } });
    expect(stats.status, stats.text).toBe(200);
    expect(stats.schemaErrors).toEqual([]);
    expect(stats.body.memoryLimitBytes).toBe(64 * 1024 * 1024);

    // Stop, then remove.
    const stopped = await api.call("containerAction", { path: { hostId, containerId, action: "stop" } });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.schemaErrors).toEqual([]);
    expect((await agentContainers(host.agent.socket)).find((c) => c.Id === containerId)?.State).toBe("exited");
    const removed = await api.call("removeContainer", { path: { hostId, containerId } });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.schemaErrors).toEqual([]);
    expect((await agentContainers(host.agent.socket)).find((c) => c.Id === containerId)).toBeUndefined();
    expectError(await api.call("inspectContainer", { path: { hostId, containerId } }), 404, "NOT_FOUND");

    // The audit query, through the API, with the token as the actor of each step.
    const audit = await api.call<{ events: { action: string; actorType: string; actorId: string; outcome: string; targetId: string | null }[] }>("queryAudit", {
      query: { actorId: ownerToken.token.id, limit: 100 },
    });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.schemaErrors).toEqual([]);
    const seen = audit.body.events.map((e) => [e.action, e.outcome]);
    for (const action of ["api.v1.containers.deploy", "containers.deploy", "api.v1.containers.action", "containers.action", "api.v1.containers.remove"]) {
      expect(seen, action).toContainEqual([action, "success"]);
    }
    expect(new Set(audit.body.events.map((e) => e.actorType))).toEqual(new Set(["token"]));
    expect(audit.text).not.toContain("rest-s3cret");
    const deployRecord = audit.body.events.find((e) => e.action === "api.v1.containers.deploy")!;
    expect(deployRecord.targetId).toBe(containerId);
  });

  it("kills a running container", async () => {
    const deployed = await api.call<{ containerId: string }>("deployContainer", { path: { hostId }, body: { image: image(), name: "api-kill", command: ["sleep", "600"] } });
    expect(deployed.status, deployed.text).toBe(201);
    const killed = await api.call("containerAction", { path: { hostId, containerId: "api-kill", action: "kill" } });
    expect(killed.status, killed.text).toBe(200);
    expect(killed.schemaErrors).toEqual([]);
    const state = await waitFor(async () => (await agentContainers(host.agent.socket)).find((c) => c.Id === deployed.body.containerId)?.State, (s) => s === "exited");
    expect(state).toBe("exited");
    const removed = await api.call("removeContainer", { path: { hostId, containerId: "api-kill" } });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.schemaErrors).toEqual([]);
  });

  it("refuses bad input before anything reaches the host: malformed JSON, a schema error naming the field, traversal, an unknown method, an oversized body", async () => {
    const before = (await agentContainers(host.agent.socket)).length;

    const malformed = await api.call("deployContainer", { path: { hostId }, rawBody: '{"image": "busybox", "name": ' });
    expect(expectError(malformed, 400, "BAD_REQUEST").message).toMatch(/^Malformed JSON in the request body: /);

    const wrongType = await api.call("deployContainer", { path: { hostId }, rawBody: JSON.stringify({ image: image(), ports: [{ containerPort: "eighty" }] }) });
    expect(expectError(wrongType, 400, "BAD_REQUEST").message).toContain("ports[0].containerPort");
    const missing = await api.call("deployContainer", { path: { hostId }, rawBody: JSON.stringify({ name: "no-image" }) });
    expect(expectError(missing, 400, "BAD_REQUEST").message).toMatch(/image/);
    const badQuery = await api.call("containerLogs", { path: { hostId, containerId: "x" }, query: { tail: "lots" as unknown as number } });
    expect(expectError(badQuery, 400, "BAD_REQUEST").message).toContain("tail");

    // Traversal hidden in a path parameter (encoded slashes and dots) is no id: 404, nothing reached.
    for (const raw of [
      `/api/v1/hosts/${hostId}/containers/..%2F..%2F..%2Fhosts/logs`,
      `/api/v1/hosts/${hostId}/containers/%2e%2e%2f%2e%2e%2faudit%2fevents`,
      `/api/v1/hosts/${hostId}/containers/..%5C..%5Cetc/stats`,
      `/api/v1/hosts/${hostId}%2F..%2F..%2Faudit/containers`,
    ]) {
      const res = await rawRequest(gateway.url, raw, ownerToken.secret);
      expect(res.status, `${raw}: ${res.text}`).toBe(404);
      expect((JSON.parse(res.text) as ApiError).error.code).toBe("NOT_FOUND");
    }
    // Whole dot segments, literal or %2e-encoded, are refused at the front door (before the token
    // is even checked): nothing under /api/ is resolved by URL rules into another resource.
    const outside = await rawRequest(gateway.url, `/api/v1/hosts/${hostId}/containers/x/../../../../../../etc/passwd`, ownerToken.secret);
    expect(outside.status).toBe(404);
    expect(outside.text).not.toContain("root:");
    const inside = await rawRequest(gateway.url, `/api/v1/hosts/%2e%2e/%2e%2e/v1/hosts/${hostId}/containers/%2e%2e/logs`, ownerToken.secret);
    expect(inside.status).toBe(404);
    expect((JSON.parse(inside.text) as ApiError).error.code).toBe("NOT_FOUND");
    const hidden = await rawRequest(gateway.url, `/api/v1/hosts/%2E%2e/containers`, ownerToken.secret);
    expect(hidden.status).toBe(404);
    expect((JSON.parse(hidden.text) as ApiError).error.code).toBe("NOT_FOUND");
    const unauthenticated = await rawRequest(gateway.url, `/api/v1/hosts/%2e%2e/containers`, "not-a-token");
    expect(unauthenticated.status).toBe(404);

    const put = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/containers`, { method: "PUT", headers: { authorization: `Bearer ${ownerToken.secret}` }, body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
    expect(((await put.json()) as ApiError).error.code).toBe("METHOD_NOT_ALLOWED");

    // Declared too long: refused at the gateway's front door, before the body is read.
    const huge = await api.call("deployContainer", { path: { hostId }, rawBody: JSON.stringify({ image: image(), labels: { big: "x".repeat(MAX_BODY) } }) });
    expectError(huge, 413, "PAYLOAD_TOO_LARGE");
    // Chunked (no length): cut off by the API's reader once over the limit, and recorded.
    const json = JSON.stringify({ image: image(), labels: { big: "x".repeat(2 * MAX_BODY) } });
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < json.length; i += 8192) c.enqueue(new TextEncoder().encode(json.slice(i, i + 8192)));
        c.close();
      },
    });
    const streamed = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/containers`, {
      method: "POST",
      headers: { authorization: `Bearer ${ownerToken.secret}`, "content-type": "application/json" },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as ApiError).error.code).toBe("PAYLOAD_TOO_LARGE");

    expect((await agentContainers(host.agent.socket)).length).toBe(before);
    // Each refused deploy is still on record, with its outcome.
    const refused = await events({ action: "api.v1.containers.deploy", outcome: "error", actorId: ownerToken.token.id });
    expect(refused.map((e) => e.errorMessage)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Malformed JSON/), expect.stringContaining("ports[0].containerPort"), expect.stringMatching(/larger than/)]),
    );
  });

  it("a Viewer token's deploy is 403; a Deployer token's privileged deploy is 403 naming the rule; both audited, nothing created", async () => {
    const before = (await agentContainers(host.agent.socket)).length;
    const viewer = await userWithToken("viewer@example.test", "Viewer");
    const deployer = await userWithToken("deployer@example.test", "Deployer");

    const asViewer = await api.withToken(viewer.secret).call("deployContainer", { path: { hostId }, body: { image: image(), name: "viewer-try" } });
    expect(expectError(asViewer, 403, "FORBIDDEN").message).toMatch(/containers\.deploy/);

    const asDeployer = await api.withToken(deployer.secret).call("deployContainer", {
      path: { hostId },
      query: { overridePolicy: true },
      body: { image: image(), name: "priv-try", privileged: true, command: ["sleep", "600"] },
    });
    const denied = expectError(asDeployer, 403, "FORBIDDEN");
    expect(denied.message).toMatch(/Denied by the deploy policy: Allow privileged containers/);
    expect(denied.violations?.map((v) => [v.rule, v.field])).toEqual([["allowPrivileged", "privileged"]]);

    expect((await agentContainers(host.agent.socket)).length).toBe(before);
    for (const token of [viewer, deployer]) {
      const records = await events({ actorId: token.token.id, outcome: "denied" });
      expect(records.map((r) => r.action)).toEqual(expect.arrayContaining(["api.v1.containers.deploy", "containers.deploy"]));
      expect(records.every((r) => r.actorType === "token")).toBe(true);
      expect(records.find((r) => r.action === "api.v1.containers.deploy")?.hostId).toBe(hostId);
    }
    const policyDenial = (await events({ actorId: deployer.token.id, action: "api.v1.containers.deploy" }))[0]!;
    expect(policyDenial.errorMessage).toMatch(/Allow privileged containers/);

    // Token management is never done with a token: a clear 403, audited.
    const tokens = await api.call("listTokens");
    expect(expectError(tokens, 403, "FORBIDDEN").message).toMatch(/Settings → API tokens/);
    expect(await events({ action: "api.v1.tokens.list", outcome: "denied", actorId: ownerToken.token.id })).toHaveLength(1);
  });

  it("pull streams per-layer progress then a result line; a bad reference is a 400; the image can then be removed", async () => {
    const pulled = await api.call<{ type: string; layer?: { id: string; status: string }; ok?: boolean; pulled?: string }[]>("pullImage", {
      path: { hostId },
      body: { reference: image("v1") },
    });
    expect(pulled.status, pulled.text).toBe(200);
    expect(pulled.contentType).toBe("application/x-ndjson");
    expect(pulled.schemaErrors).toEqual([]);
    const progress = pulled.body.filter((l) => l.type === "progress");
    expect(progress.some((l) => l.layer && /^[0-9a-f]{12}$/.test(l.layer.id))).toBe(true);
    expect(pulled.body.at(-1)).toEqual({ type: "result", ok: true, pulled: image("v1") });
    expect(pulled.body.filter((l) => l.type === "result")).toHaveLength(1);
    const record = await waitFor(
      () => database.db.auditEvent.findFirst({ where: { action: "api.v1.images.pull", actorId: ownerToken.token.id } }),
      (e) => e !== null,
    );
    expect(record).toMatchObject({ outcome: "success", targetId: image("v1"), hostId });

    const bad = await api.call("pullImage", { path: { hostId }, rawBody: JSON.stringify({ reference: "Not A Reference::" }) });
    expect(expectError(bad, 400, "BAD_REQUEST").message).toMatch(/reference/);

    // Refused by the registry before any layer: a plain JSON error with its status, not a 200 stream.
    const missing = await api.call<ApiError>("pullImage", { path: { hostId }, body: { reference: image("no-such-tag") } });
    // The host's pull reports a missing tag as bad input: 400.
    expect(expectError(missing, 400, "BAD_REQUEST").message).toMatch(/no-such-tag.*not found/);
    expect(await waitFor(() => database.db.auditEvent.findFirst({ where: { action: "api.v1.images.pull", outcome: "error", targetId: image("no-such-tag") } }), (e) => e !== null)).not.toBeNull();

    const images = await api.call<{ id: string; tags: string[] }[]>("listImages", { path: { hostId } });
    expect(images.schemaErrors).toEqual([]);
    const v1 = images.body.find((i) => i.tags.includes(image("v1")))!;
    expect(v1).toBeDefined();
    const removed = await api.call("removeImage", { path: { hostId, imageId: v1.id }, query: { force: true } });
    expect(removed.status, removed.text).toBe(200);
    const after = await api.call<{ id: string }[]>("listImages", { path: { hostId } });
    expect(after.body.map((i) => i.id)).not.toContain(v1.id);
  });

  it("audit export returns the records it is asked for, as NDJSON and CSV (formulas neutralised), and is itself audited", async () => {
    // Its own token, and the records it exports made here: a denial (with a formula for a user agent) and a refused deploy.
    const exporter = await createToken(owner, "exporter");
    const asExporter = api.withToken(exporter.secret);
    const denied = await fetch(`${gateway.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${exporter.secret}`, "user-agent": "=1+2" } });
    expect(denied.status).toBe(403);
    expectError(await asExporter.call("deployContainer", { path: { hostId }, rawBody: '{"image": ' }), 400, "BAD_REQUEST");

    const exported = await asExporter.call<{ action: string; actorId: string; actorType: string; outcome: string; userAgent: string | null }[]>("exportAudit", {
      query: { actorId: exporter.token.id, action: "api.v1", format: "ndjson" },
    });
    expect(exported.status, exported.text).toBe(200);
    expect(exported.schemaErrors).toEqual([]);
    expect(exported.headers.get("content-disposition")).toMatch(/^attachment; filename="berth-audit-.*\.ndjson"$/);
    // Oldest first; the export's own record is written before it reads, so it is the last line.
    expect(exported.body.map((e) => [e.action, e.outcome])).toEqual([
      ["api.v1.tokens.list", "denied"],
      ["api.v1.containers.deploy", "error"],
      ["api.v1.audit.export", "success"],
    ]);
    expect(exported.body.every((e) => e.actorId === exporter.token.id && e.actorType === "token")).toBe(true);
    expect(exported.body[0]!.userAgent).toBe("=1+2");

    const csv = await asExporter.call<string>("exportAudit", { query: { actorId: exporter.token.id, format: "csv", action: "api.v1.tokens.list" } });
    expect(csv.status, csv.text).toBe(200);
    expect(csv.contentType).toBe("text/csv");
    const rows = csv.body.trim().split("\r\n");
    expect(rows[0]).toMatch(/^id,createdAt,actorType,actorId,actorLabel,sourceIp,userAgent,/);
    expect(rows).toHaveLength(2);
    const userAgentColumn = rows[0]!.split(",").indexOf("userAgent");
    // A spreadsheet would run =1+2: the cell comes out as text.
    expect(rows[1]!.split(",")[userAgentColumn]).toBe("'=1+2");
    expect(rows[1]).toContain(",api.v1.tokens.list,");
    expect(await events({ actorId: exporter.token.id, action: "api.v1.audit.export", outcome: "success" })).toHaveLength(2);
  });

  it("refuses unknown fields at any depth of a deploy body (400 naming the path), and the document says so", async () => {
    const before = (await agentContainers(host.agent.socket)).length;
    const secretTypo = await api.call("deployContainer", {
      path: { hostId },
      rawBody: JSON.stringify({ image: image(), name: "typo-secret", env: [{ name: "API_KEY", value: "typo-s3cret", Secret: true }] }),
    });
    const e1 = expectError(secretTypo, 400, "BAD_REQUEST");
    expect(e1.message).toContain("env[0].Secret: unknown field");
    expect(e1.message).not.toContain("typo-s3cret");
    const mountTypo = await api.call("deployContainer", {
      path: { hostId },
      rawBody: JSON.stringify({ image: image(), name: "typo-mount", mounts: [{ type: "volume", source: "data", target: "/data", readonly: true }] }),
    });
    expect(expectError(mountTypo, 400, "BAD_REQUEST").message).toContain("mounts[0].readonly: unknown field");
    const pullTypo = await api.call("pullImage", { path: { hostId }, rawBody: JSON.stringify({ reference: image(), force: true }) });
    expect(expectError(pullTypo, 400, "BAD_REQUEST").message).toContain("force: unknown field");

    // Nothing deployed, nothing saved; the refusals are on record.
    expect((await agentContainers(host.agent.socket)).length).toBe(before);
    expect(await database.db.deployment.findMany({ where: { name: { in: ["typo-secret", "typo-mount"] } } })).toEqual([]);
    const refused = await events({ action: "api.v1.containers.deploy", outcome: "error", actorId: ownerToken.token.id });
    expect(refused.map((r) => r.errorMessage)).toEqual(expect.arrayContaining([expect.stringContaining("env[0].Secret: unknown field")]));

    // The document the client is driven by refuses the same body before sending it.
    await expect(api.call("deployContainer", { path: { hostId }, body: { image: image(), env: [{ name: "A", value: "b", Secret: true }] } })).rejects.toThrow(/request body doesn't fit the document/);
    const docs = await fetch(`${gateway.url}/api/v1/docs`);
    expect(await docs.text()).toContain("(unknown fields are refused)");
  });

  it("GET /deployments?hostId= filters and pages in the database: a host's deployment is found behind 500 newer ones elsewhere, with the right total", async () => {
    const deployed = await api.call<{ deploymentId: string; containerId: string }>("deployContainer", { path: { hostId }, body: { image: image(), name: "api-dep", command: ["sleep", "600"] } });
    expect(deployed.status, deployed.text).toBe(201);
    // 501 newer deployments on another host (rows only: that host is never contacted).
    const other = await database.db.host.create({ data: { name: "bulk-host", address: "192.0.2.10" } });
    try {
      await database.db.deployment.createMany({ data: Array.from({ length: 501 }, (_, i) => ({ hostId: other.id, name: `bulk-${i}`, spec: {}, status: "running" })) });
      const expectedOnHost = await database.db.deployment.count({ where: { hostId } });
      const expectedAll = await database.db.deployment.count();

      const onHost = await api.call<{ items: { id: string; hostId: string; hostName: string }[]; total: number; nextOffset: number | null }>("listDeployments", { query: { hostId, limit: 500 } });
      expect(onHost.status, onHost.text).toBe(200);
      expect(onHost.schemaErrors).toEqual([]);
      expect(onHost.body.items.map((d) => d.id)).toContain(deployed.body.deploymentId);
      expect(onHost.body.items.every((d) => d.hostId === hostId && d.hostName === "api-host")).toBe(true);
      expect(onHost.body.total).toBe(expectedOnHost);
      expect(onHost.body.nextOffset).toBeNull();

      const first = await api.call<{ items: { id: string }[]; total: number; nextOffset: number | null }>("listDeployments", { query: { limit: 10 } });
      expect(first.schemaErrors).toEqual([]);
      expect(first.body.total).toBe(expectedAll);
      expect(first.body.items).toHaveLength(10);
      expect(first.body.nextOffset).toBe(10);
      // Past the first 500: still there, and the last page ends the list.
      const last = await api.call<{ items: { id: string }[]; total: number; nextOffset: number | null }>("listDeployments", { query: { limit: 500, offset: 500 } });
      expect(last.schemaErrors).toEqual([]);
      expect(last.body.items).toHaveLength(expectedAll - 500);
      expect(last.body.nextOffset).toBeNull();
      const ids = new Set([...(await api.call<{ items: { id: string }[] }>("listDeployments", { query: { limit: 500 } })).body.items.map((d) => d.id), ...last.body.items.map((d) => d.id)]);
      expect(ids.size).toBe(expectedAll);
    } finally {
      await database.db.host.delete({ where: { id: other.id } });
      await api.call("removeContainer", { path: { hostId, containerId: "api-dep" } });
      await database.db.deployment.deleteMany({ where: { hostId, name: "api-dep" } });
    }
  });

  it("a token limited to containers.control can stop a container, one limited to containers.delete can remove it; neither can do the other", async () => {
    const deployed = await api.call<{ containerId: string }>("deployContainer", { path: { hostId }, body: { image: image(), name: "api-perm", command: ["sleep", "600"] } });
    expect(deployed.status, deployed.text).toBe(201);
    const control = await createToken(owner, "control only", { permissions: ["containers.control"] });
    const remove = await createToken(owner, "delete only", { permissions: ["containers.delete"] });

    const refusedRemove = await api.withToken(control.secret).call("removeContainer", { path: { hostId, containerId: "api-perm" } });
    expect(expectError(refusedRemove, 403, "FORBIDDEN").message).toMatch(/containers\.delete/);
    const refusedStop = await api.withToken(remove.secret).call("containerAction", { path: { hostId, containerId: "api-perm", action: "stop" } });
    expect(expectError(refusedStop, 403, "FORBIDDEN").message).toMatch(/containers\.control/);
    expect((await agentContainers(host.agent.socket)).find((c) => c.Id === deployed.body.containerId)?.State).toBe("running");

    const stopped = await api.withToken(control.secret).call("containerAction", { path: { hostId, containerId: "api-perm", action: "stop" } });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.schemaErrors).toEqual([]);
    expect((await agentContainers(host.agent.socket)).find((c) => c.Id === deployed.body.containerId)?.State).toBe("exited");
    const removed = await api.withToken(remove.secret).call("removeContainer", { path: { hostId, containerId: "api-perm" } });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.schemaErrors).toEqual([]);
    expect((await agentContainers(host.agent.socket)).find((c) => c.Id === deployed.body.containerId)).toBeUndefined();
    await database.db.deployment.deleteMany({ where: { hostId, name: "api-perm" } });
  });

  it("an unsupported method is 401 without a valid token (audited) and 405 with one", async () => {
    const url = `${gateway.url}/api/v1/hosts/${hostId}/containers`;
    const anonymous = await fetch(url, { method: "PUT", body: "{}" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="berth"');
    expect(anonymous.headers.get("allow")).toBeNull();
    const badToken = await fetch(url, { method: "DELETE", headers: { authorization: "Bearer berth_not-a-real-token" } });
    expect(badToken.status).toBe(401);
    const requestId = badToken.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    const record = await waitFor(() => database.db.auditEvent.findFirst({ where: { requestId: requestId!, action: "api.v1.methodNotAllowed" } }), (e) => e !== null);
    expect(record).toMatchObject({ outcome: "denied", actorType: "anonymous" });

    const allowed = await fetch(url, { method: "PUT", headers: { authorization: `Bearer ${ownerToken.secret}` }, body: "{}" });
    expect(allowed.status).toBe(405);
    expect(allowed.headers.get("allow")).toBe("GET, POST");
    expect(((await allowed.json()) as ApiError).error.code).toBe("METHOD_NOT_ALLOWED");
  });
});
