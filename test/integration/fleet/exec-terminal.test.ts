import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ExecServerControl } from "../../../lib/exec-protocol";
import { agentCall } from "../../fixtures/agent-socket";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The browser's exec terminal end to end: a real gateway process, a real SSH
// host running our agent, a container on it, and a WebSocket client holding
// a real Auth.js session cookie.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const VIEWER = { email: "viewer@example.test", password: "viewer-password-123" };

/** The session cookies an HttpClient holds (it keeps them privately, as a browser would). */
function cookieOf(client: HttpClient): string {
  const jar = (client as unknown as { cookies: Map<string, string> }).cookies;
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

type Refusal = { status: number; body: string };

/** A terminal as the browser component drives it, over the `ws` client. */
class Term {
  output = "";
  readonly controls: ExecServerControl[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) this.output += buf.toString("utf8");
      else this.controls.push(JSON.parse(buf.toString("utf8")) as ExecServerControl);
    });
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens the WebSocket; resolves with the terminal, or with the HTTP refusal. */
  static open(url: string, o: { cookie?: string; origin?: string }): Promise<Term | Refusal> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: o.cookie ? { cookie: o.cookie } : {}, ...(o.origin ? { origin: o.origin } : {}) });
      const term = new Term(ws);
      ws.once("open", () => resolve(term));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once("error", (e) => reject(e));
    });
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: "resize", cols, rows }));
  }

  /** Waits (bounded) until the output matches. */
  async expectOutput(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    const seen = await waitFor(async () => this.output, (o) => pattern.test(o), timeoutMs);
    expect(seen).toMatch(pattern);
  }

  async control(type: ExecServerControl["type"], timeoutMs = 15_000): Promise<ExecServerControl | undefined> {
    await waitFor(async () => this.controls, (c) => c.some((m) => m.type === type), timeoutMs);
    return this.controls.find((m) => m.type === type);
  }
}

describe("exec terminal over the gateway's WebSocket", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let host: SshTestHost;
  let hostId: string;
  let containerId: string;

  const execUrl = (q: Record<string, string>) => `${gateway.url.replace(/^http/, "ws")}/api/exec?${new URLSearchParams(q)}`;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-exec-test-"));
    database = await createTestDatabase("exec");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);

    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);

    // The host, added as the console does: probe, confirm the key, add, install the agent.
    hostId = await addHostOverApi(owner, host, {
      name: "exec-host",
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });

    // A long-running container, made on the agent directly (there is no deploy procedure yet).
    const image = `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`;
    const pulled = await agentCall(host.agent.socket, "POST", `/images/create?fromImage=${encodeURIComponent(image)}`);
    expect(pulled.status, pulled.text).toBe(200);
    expect(pulled.text).not.toMatch(/"error"/);
    const created = await agentCall(host.agent.socket, "POST", "/containers/create?name=exec-target", { Image: image, Cmd: ["sleep", "600"] });
    expect(created.status, created.text).toBe(201);
    containerId = (JSON.parse(created.text) as { Id: string }).Id;
    const started = await agentCall(host.agent.socket, "POST", `/containers/${containerId}/start`);
    expect(started.status, started.text).toBe(204);

    // A Viewer: may read the host, may not exec.
    const roles = await owner.trpc<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    const roleId = roles.data!.roles.find((r) => r.name === "Viewer")!.id;
    const user = await owner.trpc<{ id: string }>("users.create", { email: VIEWER.email, password: VIEWER.password, roleId });
    expect(user.error).toBeUndefined();
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("runs a shell in the container: input, output, resize and the exit code, audited at start and end", async () => {
    const opened = await Term.open(execUrl({ hostId, containerId, cols: "90", rows: "30" }), { cookie: cookieOf(owner), origin: gateway.url });
    expect(opened, gateway.logs()).toBeInstanceOf(Term);
    const term = opened as Term;
    await term.control("ready");

    term.type("echo hello-$((6*7))\n");
    await term.expectOutput(/hello-42/);

    // The size asked for on connect is the terminal's size from the start.
    term.type("echo size=$(busybox stty size)\n");
    await term.expectOutput(/size=30 90/);

    // A resize reaches the container's pty (asked again until the resize has landed; bounded).
    term.resize(100, 40);
    let resized = false;
    for (let i = 0; i < 20 && !resized; i++) {
      term.type("echo size=$(busybox stty size)\n");
      resized = await waitFor(async () => /size=40 100/.test(term.output), (v) => v, 500);
    }
    expect(term.output).toMatch(/size=40 100/);

    term.type("exit 3\n");
    expect(await term.control("exit")).toEqual({ type: "exit", code: 3 });
    expect((await term.closed).code).toBe(1000);

    const ownerRow = await database.db.user.findUniqueOrThrow({ where: { email: OWNER.email } });
    const events = await database.db.auditEvent.findMany({ where: { action: { startsWith: "containers.exec." } }, orderBy: { id: "asc" } });
    const start = events.find((e) => e.action === "containers.exec.start" && e.outcome === "success");
    const end = events.find((e) => e.action === "containers.exec.end");
    expect(start).toMatchObject({ actorType: "user", actorId: ownerRow.id, hostId, targetType: "container", targetId: containerId, sourceIp: "127.0.0.1" });
    expect(start!.params).toMatchObject({ containerId, cmd: ["/bin/sh"] });
    expect(start!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(end).toMatchObject({ actorId: ownerRow.id, hostId, outcome: "success" });
    expect(end!.params).toMatchObject({ containerId, cmd: ["/bin/sh"], exitCode: 3 });
    expect((end!.params as { durationMs: number }).durationMs).toBeGreaterThan(0);
    expect(end!.id).toBeGreaterThan(start!.id);
  });

  it("closing the WebSocket ends the exec on the host", async () => {
    const term = (await Term.open(execUrl({ hostId, containerId, cmd: "sh" }), { cookie: cookieOf(owner), origin: gateway.url })) as Term;
    await term.control("ready");
    term.type("echo pid=$$\n");
    await term.expectOutput(/pid=\d+/);
    const pid = /pid=(\d+)/.exec(term.output)![1]!;
    term.ws.close();
    await term.closed;
    const end = await waitFor(
      () => database.db.auditEvent.findFirst({ where: { action: "containers.exec.end" }, orderBy: { id: "desc" } }),
      (e) => (e?.params as { cmd?: string[] } | undefined)?.cmd?.[0] === "sh",
    );
    // Killed by the agent when its stream closed: it reports the exec finished.
    expect(end!.params).toMatchObject({ cmd: ["sh"], closedBy: "browser", exitCode: expect.any(Number) });

    // The shell is gone from the container (argv given element by element, as repeated cmd parameters).
    const script = `for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 ${pid} 2>/dev/null || { echo shell-gone; exit 0; }; sleep 1; done; echo shell-alive; exit 1`;
    const query = new URLSearchParams({ hostId, containerId });
    for (const arg of ["sh", "-c", script]) query.append("cmd", arg);
    const check = (await Term.open(`${gateway.url.replace(/^http/, "ws")}/api/exec?${query}`, { cookie: cookieOf(owner), origin: gateway.url })) as Term;
    expect(await check.control("exit", 20_000)).toEqual({ type: "exit", code: 0 });
    expect(check.output).toContain("shell-gone");
  });

  it("refuses without a session (401), cross-origin (403) and without containers.exec (403, audited)", async () => {
    const url = execUrl({ hostId, containerId });
    expect(await Term.open(url, { origin: gateway.url })).toMatchObject({ status: 401 });
    expect(await Term.open(url, { cookie: "authjs.session-token=forged", origin: gateway.url })).toMatchObject({ status: 401 });
    expect(await Term.open(url, { cookie: cookieOf(owner), origin: "http://evil.example" })).toMatchObject({ status: 403 });
    expect(await Term.open(url, { cookie: cookieOf(owner) })).toMatchObject({ status: 403 });

    const viewer = new HttpClient(gateway.url);
    expect((await viewer.signIn(VIEWER.email, VIEWER.password)).ok).toBe(true);
    const refused = await Term.open(url, { cookie: cookieOf(viewer), origin: gateway.url });
    expect(refused).toMatchObject({ status: 403 });
    expect((refused as Refusal).body).toContain("containers.exec");

    const viewerRow = await database.db.user.findUniqueOrThrow({ where: { email: VIEWER.email } });
    const denial = await database.db.auditEvent.findFirst({ where: { action: "containers.exec.start", actorId: viewerRow.id }, orderBy: { id: "desc" } });
    expect(denial).toMatchObject({ outcome: "denied", hostId, targetId: containerId });
    expect(denial!.params).toMatchObject({ containerId, cmd: ["/bin/sh"] });
    const crossOrigin = await database.db.auditEvent.findMany({ where: { action: "containers.exec.start", outcome: "denied", errorMessage: { contains: "Origin" } } });
    expect(crossOrigin).toHaveLength(2);
    const anonymous = await database.db.auditEvent.count({ where: { action: "containers.exec.start", outcome: "denied", actorType: "anonymous" } });
    expect(anonymous).toBe(2);
  });

  it("an exec that can't start reports the error over the socket and is audited", async () => {
    const term = (await Term.open(execUrl({ hostId, containerId: "no-such-container" }), { cookie: cookieOf(owner), origin: gateway.url })) as Term;
    const error = await term.control("error");
    expect(error).toMatchObject({ type: "error", message: expect.stringMatching(/no-such-container|No such container/i) });
    expect((await term.closed).code).toBe(1011);
    const event = await database.db.auditEvent.findFirst({ where: { action: "containers.exec.start", targetId: "no-such-container" } });
    expect(event).toMatchObject({ outcome: "error" });
  });

  // Last: it stops the gateway.
  it("stopping the gateway ends open terminals (audited) instead of waiting for them", async () => {
    const term = (await Term.open(execUrl({ hostId, containerId, cmd: "sh -i" }), { cookie: cookieOf(owner), origin: gateway.url })) as Term;
    await term.control("ready");
    const t0 = Date.now();
    await gateway.stop();
    expect(Date.now() - t0).toBeLessThan(9_000);
    expect(gateway.process.exitCode).toBe(0);
    expect(await term.closed).toMatchObject({ code: 1001 });
    expect(term.controls).toContainEqual({ type: "error", message: "The gateway is shutting down." });
    const end = await database.db.auditEvent.findFirst({ where: { action: "containers.exec.end" }, orderBy: { id: "desc" } });
    expect(end!.params).toMatchObject({ cmd: ["sh", "-i"], closedBy: "shutdown" });
  });
});
