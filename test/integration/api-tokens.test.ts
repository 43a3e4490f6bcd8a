import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { waitFor } from "../fixtures/fleet-env";
import { HttpClient } from "../fixtures/http-client";

// Scoped API tokens and /api/v1 against the real gateway (built Next app, real Postgres).
// Hosts are plain rows with no SSH connection: enough for scoping, and a
// reachable-but-unconnected host shows what the API answers then.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const MAX_BODY = 64 * 1024;

interface CreatedToken {
  token: { id: string; name: string; prefix: string; status: string };
  secret: string;
}
interface ApiError {
  error: { code: string; message: string; requestId: string | null };
}

describe("API tokens and the REST API (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let hostA: { id: string; name: string };
  let hostB: { id: string; name: string };

  const api = (path: string, secret?: string | null, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (secret) headers.set("authorization", `Bearer ${secret}`);
    return fetch(`${gateway.url}/api/v1${path}`, { ...init, headers });
  };
  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });

  async function createToken(client: HttpClient, input: Record<string, unknown>): Promise<CreatedToken> {
    const res = await client.trpc<CreatedToken>("tokens.create", input);
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  }

  async function expectError(res: Response, status: number, code: string): Promise<ApiError["error"]> {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as ApiError;
    expect(body.error.code).toBe(code);
    expect(body.error.message).toBeTruthy();
    // The id the gateway put on the response, so a client can quote it.
    expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
    return body.error;
  }

  async function createUser(email: string, password: string, roleName: string): Promise<{ id: string; client: HttpClient }> {
    const roleId = (await database.db.role.findUniqueOrThrow({ where: { name: roleName } })).id;
    const created = await owner.trpc<{ id: string }>("users.create", { email, password, roleId });
    expect(created.error).toBeUndefined();
    const client = new HttpClient(gateway.url);
    expect((await client.signIn(email, password)).ok).toBe(true);
    return { id: created.data!.id, client };
  }

  beforeAll(async () => {
    database = await createTestDatabase("tok");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_MAX_BODY_BYTES: String(MAX_BODY),
      // The Docker-API proxy's own per-token limit, set low to see it apply.
      BERTH_DOCKER_API_RATE: "1",
      BERTH_DOCKER_API_BURST: "5",
    });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostA = await database.db.host.create({ data: { name: "api-host-a", address: "192.0.2.10" }, select: { id: true, name: true } });
    hostB = await database.db.host.create({ data: { name: "api-host-b", address: "192.0.2.11" }, select: { id: true, name: true } });
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("without a bearer token, or with a malformed or unknown one, answers 401 JSON, and each refusal is audited", async () => {
    const none = await api("/hosts");
    await expectError(none, 401, "UNAUTHORIZED");
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await lastEvent({ action: "api.v1.hosts.list", outcome: "denied", errorMessage: "no bearer token" })).toMatchObject({
      actorType: "anonymous",
      sourceIp: "127.0.0.1",
    });

    const malformed = await api("/hosts", null, { headers: { authorization: "Bearer nope" } });
    await expectError(malformed, 401, "UNAUTHORIZED");
    expect(malformed.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await lastEvent({ action: "api.v1.hosts.list", outcome: "denied", errorMessage: "malformed bearer token" })).not.toBeNull();

    await expectError(await api("/hosts", null, { headers: { authorization: "Basic b3duZXI6cGFzcw==" } }), 401, "UNAUTHORIZED");

    const unknown = `berth_${"A".repeat(40)}`;
    const refused = await expectError(await api(`/hosts/${hostA.id}/containers`, unknown), 401, "UNAUTHORIZED");
    expect(refused.message).toBe("Invalid API token.");
    const event = await lastEvent({ action: "api.v1.hosts.containers.list", outcome: "denied", errorMessage: "token unknown" });
    expect(event).toMatchObject({ actorType: "anonymous" });
    // Enough to recognise a leaked token in the log, never the whole secret.
    expect(event!.params).toMatchObject({ method: "GET", prefix: "berth_AAAAAA" });
    expect(JSON.stringify(event!.params)).not.toContain(unknown);

    // Paths no resource answers need a token too; with one they get a JSON 404.
    await expectError(await api("/no-such-thing"), 401, "UNAUTHORIZED");
  });

  it("the owner creates a token over tRPC: the secret is shown once, stored hashed, never listed or audited; it lists the hosts as hosts.list does", async () => {
    const created = await createToken(owner, { name: "ci all", expiresAt: new Date(Date.now() + 86_400_000) });
    expect(created.secret).toMatch(/^berth_[0-9A-Za-z]{40}$/);
    expect(created.token).toMatchObject({ name: "ci all", prefix: created.secret.slice(0, 12), status: "active" });
    expect(created.token).not.toHaveProperty("hash");

    const row = await database.db.apiToken.findUniqueOrThrow({ where: { id: created.token.id } });
    expect(row.hash).toBe(createHash("sha256").update(created.secret).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(created.secret);

    const listed = await owner.trpc<Record<string, unknown>[]>("tokens.list", undefined, "query");
    expect(listed.data!.map((t) => t.id)).toContain(created.token.id);
    expect(JSON.stringify(listed.data)).not.toContain(created.secret);
    expect(JSON.stringify(listed.data)).not.toContain(row.hash);

    const audit = await lastEvent({ action: "tokens.create", outcome: "success" });
    expect(audit).toMatchObject({ actorType: "user", actorLabel: OWNER.email, targetType: "apiToken", targetId: created.token.id });
    expect(audit!.params).toMatchObject({ name: "ci all", prefix: created.token.prefix });
    const everything = await database.db.auditEvent.findMany();
    expect(JSON.stringify(everything, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(created.secret);

    const res = await api("/hosts", created.secret);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const hosts = (await res.json()) as { id: string; name: string }[];
    const fromConsole = await owner.trpc<{ id: string }[]>("hosts.list", undefined, "query");
    // Same rows and fields as the console's hosts.list (dates as ISO strings in JSON).
    expect(hosts.map((h) => h.id).sort()).toEqual(fromConsole.data!.map((h) => h.id).sort());
    expect(hosts.map((h) => h.id)).toEqual(expect.arrayContaining([hostA.id, hostB.id]));
    expect(Object.keys(hosts[0]!).sort()).toEqual(Object.keys(fromConsole.data![0]!).sort());

    // Use is recorded (throttled to once a minute).
    const used = await database.db.apiToken.findUniqueOrThrow({ where: { id: created.token.id } });
    expect(used.lastUsedAt).toBeInstanceOf(Date);
    expect(used.lastUsedIp).toBe("127.0.0.1");

    // A successful read isn't audited; the token is the actor of what it does.
    expect(await lastEvent({ actorId: created.token.id })).toBeNull();
  });

  it("a token scoped to host A sees only A, reads A's containers (stale and empty: no connection), and gets 403 on host B, audited as the token", async () => {
    const scoped = await createToken(owner, { name: "only a", hostIds: [hostA.id] });

    const hosts = (await (await api("/hosts", scoped.secret)).json()) as { id: string }[];
    expect(hosts.map((h) => h.id)).toEqual([hostA.id]);

    const onA = await api(`/hosts/${hostA.id}/containers`, scoped.secret);
    expect(onA.status).toBe(200);
    // The host has no connection: the answer is the last known list (none yet), marked stale, with the reason.
    const body = (await onA.json()) as { containers: unknown[]; stale: boolean; at: string | null; message: string | null };
    expect(body).toMatchObject({ containers: [], stale: true, at: null });
    expect(body.message).toMatch(/not connected/);

    const onB = await api(`/hosts/${hostB.id}/containers`, scoped.secret);
    const error = await expectError(onB, 403, "FORBIDDEN");
    expect(error.message).toMatch(/containers\.read/);

    const denial = await lastEvent({ action: "api.v1.hosts.containers.list", outcome: "denied", actorId: scoped.token.id });
    expect(denial).toMatchObject({
      actorType: "token",
      actorLabel: `only a (${OWNER.email})`,
      hostId: hostB.id,
      requestId: error.requestId,
      sourceIp: "127.0.0.1",
    });
    expect(denial!.params).toMatchObject({ method: "GET", path: `/api/v1/hosts/${hostB.id}/containers` });
    // The procedure's own record (as in the console) is there too, under the same request id.
    expect(await lastEvent({ action: "containers.list", outcome: "denied", hostId: hostB.id, requestId: error.requestId })).not.toBeNull();

    // An unknown host is refused the same way: ids are never probed.
    await expectError(await api("/hosts/no-such-host/containers", scoped.secret), 403, "FORBIDDEN");
    // Resources that don't exist answer a JSON 404 once the token is good.
    await expectError(await api("/no-such-thing", scoped.secret), 404, "NOT_FOUND");
    await expectError(await api("/hosts", scoped.secret, { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED");
  });

  it("a token limited to hosts.read can list hosts but not read containers", async () => {
    const readOnly = await createToken(owner, { name: "hosts only", permissions: ["hosts.read"] });
    expect((await api("/hosts", readOnly.secret)).status).toBe(200);
    await expectError(await api(`/hosts/${hostA.id}/containers`, readOnly.secret), 403, "FORBIDDEN");
  });

  it("an expired token is refused with 401, and the refusal names the token", async () => {
    const created = await createToken(owner, { name: "short lived", expiresAt: new Date(Date.now() + 3_600_000) });
    expect((await api("/hosts", created.secret)).status).toBe(200);
    await database.db.apiToken.update({ where: { id: created.token.id }, data: { expiresAt: new Date(Date.now() - 1000) } });

    const refused = await expectError(await api("/hosts", created.secret), 401, "UNAUTHORIZED");
    expect(refused.message).toMatch(/expired/);
    expect(await lastEvent({ actorId: created.token.id, outcome: "denied" })).toMatchObject({
      actorType: "token",
      actorLabel: `short lived (${OWNER.email})`,
      errorMessage: "token expired",
    });
    const listed = await owner.trpc<{ id: string; status: string }[]>("tokens.list", undefined, "query");
    expect(listed.data!.find((t) => t.id === created.token.id)?.status).toBe("expired");

    // Creating one that is already expired is refused.
    const past = await owner.trpc("tokens.create", { name: "already expired", expiresAt: new Date(Date.now() - 1000) });
    expect(past.error?.code).toBe("BAD_REQUEST");
  });

  it("a revoked token is refused on its very next request", async () => {
    const created = await createToken(owner, { name: "to revoke" });
    expect((await api("/hosts", created.secret)).status).toBe(200);

    const revoked = await owner.trpc("tokens.revoke", { id: created.token.id });
    expect(revoked.error).toBeUndefined();
    expect(await lastEvent({ action: "tokens.revoke", outcome: "success" })).toMatchObject({ targetId: created.token.id, actorType: "user" });

    const refused = await expectError(await api("/hosts", created.secret), 401, "UNAUTHORIZED");
    expect(refused.message).toMatch(/revoked/);
    expect(await lastEvent({ actorId: created.token.id, outcome: "denied" })).toMatchObject({ actorType: "token", errorMessage: "token revoked" });
  });

  it("a token loses what its owner loses: Operator's token works, then the role is unbound and it gets 403", async () => {
    const op = await createUser("operator@example.test", "operator-password-1", "Operator");
    const token = await createToken(op.client, { name: "op token" });
    expect((await api(`/hosts/${hostA.id}/containers`, token.secret)).status).toBe(200);
    expect(((await (await api("/hosts", token.secret)).json()) as unknown[]).length).toBe(2);

    const users = await owner.trpc<{ id: string; bindings: { id: string; roleName: string }[] }[]>("users.list", undefined, "query");
    const binding = users.data!.find((u) => u.id === op.id)!.bindings.find((b) => b.roleName === "Operator")!;
    expect((await owner.trpc("users.unbindRole", { bindingId: binding.id })).error).toBeUndefined();

    await expectError(await api(`/hosts/${hostA.id}/containers`, token.secret), 403, "FORBIDDEN");
    await expectError(await api("/hosts", token.secret), 403, "FORBIDDEN");
    expect(await lastEvent({ actorId: token.token.id, outcome: "denied", action: "api.v1.hosts.list" })).toMatchObject({
      actorType: "token",
      actorLabel: `op token (operator@example.test)`,
    });

    // Disabling the owner stops the token outright.
    await owner.trpc("users.bindRole", { userId: op.id, roleId: (await database.db.role.findUniqueOrThrow({ where: { name: "Operator" } })).id, scope: { type: "global" } });
    expect((await api("/hosts", token.secret)).status).toBe(200);
    expect((await owner.trpc("users.setDisabled", { userId: op.id, disabled: true })).error).toBeUndefined();
    await expectError(await api("/hosts", token.secret), 401, "UNAUTHORIZED");
  });

  it("tokens.create checks the owner's permissions and scope now; users without tokens.manage can't create one", async () => {
    // tokens.manage everywhere, but host permissions on host A only.
    const role = await database.db.role.create({ data: { name: "Token maker", permissions: ["tokens.manage"] } });
    const maker = await createUser("maker@example.test", "maker-password-12", "Viewer");
    const users = await owner.trpc<{ id: string; bindings: { id: string }[] }[]>("users.list", undefined, "query");
    const viewerBinding = users.data!.find((u) => u.id === maker.id)!.bindings[0]!;
    await owner.trpc("users.unbindRole", { bindingId: viewerBinding.id });
    await owner.trpc("users.bindRole", { userId: maker.id, roleId: role.id, scope: { type: "global" } });
    const viewerRole = await database.db.role.findUniqueOrThrow({ where: { name: "Viewer" } });
    await owner.trpc("users.bindRole", { userId: maker.id, roleId: viewerRole.id, scope: { type: "host", id: hostA.id } });

    const notHeld = await maker.client.trpc("tokens.create", { name: "x", permissions: ["containers.deploy"] });
    expect(notHeld.error?.code).toBe("FORBIDDEN");
    const notCovered = await maker.client.trpc("tokens.create", { name: "x", hostIds: [hostB.id] });
    expect(notCovered.error?.code).toBe("FORBIDDEN");
    const noSuchGroup = await maker.client.trpc("tokens.create", { name: "x", hostGroupIds: ["nope"] });
    expect(noSuchGroup.error?.code).toBe("FORBIDDEN");
    // Account-wide permissions and a host scope don't mix (the scope couldn't hold them).
    const accountWideOnHost = await owner.trpc("tokens.create", { name: "x", permissions: ["users.manage", "hosts.read"], hostIds: [hostA.id] });
    expect(accountWideOnHost.error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/users\.manage/) });
    const selfMinting = await maker.client.trpc("tokens.create", { name: "x", permissions: ["tokens.manage"] });
    expect(selfMinting.error?.code).toBe("BAD_REQUEST");

    const ok = await createToken(maker.client, { name: "host a reader", hostIds: [hostA.id], permissions: ["containers.read", "hosts.read"] });
    expect((await api(`/hosts/${hostA.id}/containers`, ok.secret)).status).toBe(200);
    await expectError(await api(`/hosts/${hostB.id}/containers`, ok.secret), 403, "FORBIDDEN");

    // Only one's own tokens: the maker can't see or revoke the owner's.
    const ownersToken = (await database.db.apiToken.findFirstOrThrow({ where: { name: "ci all" } })).id;
    const theirs = await maker.client.trpc<{ id: string }[]>("tokens.list", undefined, "query");
    expect(theirs.data!.map((t) => t.id)).toEqual([ok.token.id]);
    expect((await maker.client.trpc("tokens.revoke", { id: ownersToken })).error?.code).toBe("NOT_FOUND");
    expect((await database.db.apiToken.findUniqueOrThrow({ where: { id: ownersToken } })).revokedAt).toBeNull();

    // A role without tokens.manage (every built-in role has it now: a custom one).
    await database.db.role.create({ data: { name: "Reader, no tokens", permissions: ["hosts.read", "containers.read"] } });
    const viewer = await createUser("viewer@example.test", "viewer-password-1", "Reader, no tokens");
    const denied = await viewer.client.trpc("tokens.create", { name: "nope" });
    expect(denied.error?.code).toBe("FORBIDDEN");
    expect(await lastEvent({ action: "tokens.create", outcome: "denied", actorId: viewer.id })).not.toBeNull();
  });

  it("the migration keeps tokens tied to their owner: deleting the user deletes the tokens (FK, ON DELETE CASCADE)", async () => {
    const user = await database.db.user.create({ data: { email: "gone@example.test" } });
    const row = await database.db.apiToken.create({ data: { userId: user.id, name: "orphan?", prefix: "berth_abcdef", hash: "f".repeat(64) } });
    expect(row).toMatchObject({ permissions: [], hostIds: [], hostGroupIds: [], expiresAt: null, revokedAt: null, lastUsedAt: null });
    await expect(database.db.apiToken.create({ data: { userId: "no-such-user", name: "x", prefix: "berth_x", hash: "e".repeat(64) } })).rejects.toThrow();
    await expect(database.db.apiToken.create({ data: { userId: user.id, name: "dup", prefix: "berth_x", hash: "f".repeat(64) } })).rejects.toThrow();
    await database.db.user.delete({ where: { id: user.id } });
    expect(await database.db.apiToken.findUnique({ where: { id: row.id } })).toBeNull();
  });

  it("a body over the limit is refused with 413 JSON (a chunked one too)", async () => {
    const created = await createToken(owner, { name: "big body" });
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 12; i++) c.enqueue(new TextEncoder().encode("x".repeat(8 * 1024)));
        c.close();
      },
    });
    const res = await api("/anything", created.secret, { method: "POST", body: chunks, duplex: "half" } as RequestInit);
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers 429 with Retry-After once a token's burst is spent, and audits the refusals", async () => {
    const created = await createToken(owner, { name: "hammer" });
    let tooMany: Response | null = null;
    let ok = 0;
    // Bounded: at most 10 rounds of 60 concurrent requests; the bucket holds 40 and refills 20 a second.
    for (let round = 0; round < 10 && !tooMany; round++) {
      const answers = await Promise.all(Array.from({ length: 60 }, () => api("/hosts", created.secret)));
      for (const r of answers) {
        if (r.status === 429) tooMany ??= r;
        else {
          expect(r.status).toBe(200);
          ok++;
        }
        if (r !== tooMany) await r.body?.cancel();
      }
    }
    expect(tooMany).not.toBeNull();
    expect(ok).toBeGreaterThanOrEqual(40);
    expect(Number(tooMany!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectError(tooMany!, 429, "TOO_MANY_REQUESTS");

    const event = await lastEvent({ actorId: created.token.id, outcome: "denied", action: "api.v1.hosts.list" });
    expect(event).toMatchObject({ actorType: "token", actorLabel: `hammer (${OWNER.email})` });
    expect(event!.errorMessage).toMatch(/rate limit/);
    expect((event!.params as { refused: number }).refused).toBeGreaterThanOrEqual(1);
  });

  it("the Docker-API proxy counts a token's requests apart from the REST API, at BERTH_DOCKER_API_RATE / _BURST", async () => {
    const created = await createToken(owner, { name: "docker-hammer" });
    const ping = () => fetch(`${gateway.url}/api/docker/${hostA.id}/_ping`, { headers: { authorization: `Bearer ${created.secret}` } });
    // The burst of 5 goes through to the host lookup (the host has no agent: 502/503), the 6th is refused.
    const answers: Response[] = [];
    for (let i = 0; i < 6; i++) answers.push(await ping());
    expect(answers.slice(0, 5).map((r) => r.status)).not.toContain(429);
    const refused = answers[5]!;
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { message: string }).message).toMatch(/^too many requests for this API token: 1 a second, bursts of 5; retry in \d+ s$/);
    // The REST API's bucket is another one: the same token still reads there.
    expect((await api("/hosts", created.secret)).status).toBe(200);
    // The refusals are on record as the token's, summarised (the first at once, the rest once the client stops).
    const event = await waitFor(() => lastEvent({ actorId: created.token.id, outcome: "denied", action: "docker.request" }), (e) => e !== null, 10_000);
    expect(event).toMatchObject({ actorType: "token", params: expect.objectContaining({ method: "GET", path: `/api/docker/${hostA.id}/_ping` }) });
    expect(event!.errorMessage).toContain("too many requests for this API token");
  });
});
