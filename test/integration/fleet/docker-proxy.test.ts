import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTokenSecret, hashTokenSecret, displayPrefix } from "../../../server/tokens/format";
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

// The stock docker CLI pointed at the gateway's Docker-API proxy
// (DOCKER_HOST=tcp://…/api/docker/<host>, the token from config.json's
// HttpHeaders), through a real gateway, over SSH, to a real agent on a test
// host. Refusals are checked by what the CLI prints, by what the audit log
// stores, and by the agent's own container list staying as it was.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const DEPLOYER = { email: "deployer@example.test", password: "deployer-password-123" };
const VIEWER = { email: "viewer@example.test", password: "viewer-password-123" };
const DOCKER = "/usr/local/bin/docker";
const HOST_NAME = "proxy-host";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A raw request to the gateway (paths sent exactly as written: Node's client doesn't normalise them). */
function gatewayCall(base: string, method: string, rawPath: string, o: { token?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const url = new URL(base);
  const payload = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: rawPath,
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
          ...o.headers,
        },
        timeout: 60_000,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${method} ${rawPath} timed out`)));
    req.end(payload);
  });
}

describe("the Docker-API proxy with the stock docker CLI", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let host: SshTestHost;
  let hostId: string;
  let otherHostId: string;
  let image: string;
  let ownerToken: string;
  let deployerToken: string;
  let viewerToken: string;

  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  /** The newest audit row's id: rows after it were written by what follows. */
  const auditMark = async () => (await database.db.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0n;

  /** The docker CLI with DOCKER_HOST at the proxy and the token in a fresh config dir's HttpHeaders. */
  async function docker(token: string | null, args: string[], o: { input?: string; hostRef?: string; timeoutMs?: number } = {}): Promise<Result> {
    const config = await mkdtemp(path.join(work, "docker-config-"));
    if (token) await writeFile(path.join(config, "config.json"), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }));
    const port = new URL(gateway.url).port;
    return new Promise((resolve) => {
      const child = execFile(
        DOCKER,
        args,
        {
          timeout: o.timeoutMs ?? 90_000,
          killSignal: "SIGKILL",
          maxBuffer: 16 << 20,
          env: { PATH: process.env.PATH ?? "", HOME: work, DOCKER_CONFIG: config, DOCKER_HOST: `tcp://127.0.0.1:${port}/api/docker/${o.hostRef ?? hostId}` } as unknown as NodeJS.ProcessEnv,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (o.input !== undefined) child.stdin?.end(o.input);
      else child.stdin?.end();
    });
  }

  async function agentContainers(): Promise<string[]> {
    const r = await agentCall(host.agent.socket, "GET", "/containers/json?all=1");
    expect(r.status, r.text).toBe(200);
    return (JSON.parse(r.text) as { Id: string }[]).map((c) => c.Id).sort();
  }

  async function createToken(client: HttpClient, input: Record<string, unknown>): Promise<{ secret: string; id: string }> {
    const res = await client.trpc<{ secret: string; token: { id: string } }>("tokens.create", input);
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return { secret: res.data!.secret, id: res.data!.token.id };
  }

  async function userWithRole(email: string, password: string, roleName: string): Promise<string> {
    const roleId = (await database.db.role.findUniqueOrThrow({ where: { name: roleName } })).id;
    const user = await owner.trpc<{ id: string }>("users.create", { email, password, roleId });
    expect(user.error).toBeUndefined();
    return user.data!.id;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-docker-proxy-"));
    await mkdir(work, { recursive: true });
    database = await createTestDatabase("dproxy");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    image = `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`;

    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);

    hostId = await addHostOverApi(owner, host, {
      name: HOST_NAME,
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });
    // A second host that only exists in the database (never connected): for scope checks.
    otherHostId = (await database.db.host.create({ data: { name: "elsewhere", address: "192.0.2.20" } })).id;

    ownerToken = (await createToken(owner, { name: "owner cli" })).secret;
    await userWithRole(DEPLOYER.email, DEPLOYER.password, "Deployer");
    const deployer = new HttpClient(gateway.url);
    expect((await deployer.signIn(DEPLOYER.email, DEPLOYER.password)).ok).toBe(true);
    deployerToken = (await createToken(deployer, { name: "deployer cli" })).secret;
    // Viewers can't make tokens (no tokens.manage): theirs is stored as tokens.create stores one.
    const viewerId = await userWithRole(VIEWER.email, VIEWER.password, "Viewer");
    viewerToken = generateTokenSecret();
    await database.db.apiToken.create({ data: { userId: viewerId, name: "viewer cli", prefix: displayPrefix(viewerToken), hash: hashTokenSecret(viewerToken) } });
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("pull, images, run, ps, logs (and logs -f), exec, stop and rm work through the proxy, and are audited as the token", async () => {
    const version = await docker(ownerToken, ["version", "--format", "{{.Server.APIVersion}}"]);
    expect(version, gateway.logs()).toMatchObject({ code: 0, stdout: "1.43\n" });

    const pulled = await docker(ownerToken, ["pull", image]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/Downloaded newer image|Image is up to date/);
    const images = await docker(ownerToken, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(images.stdout.split("\n")).toContain(image);

    const hi = await docker(ownerToken, ["run", "--rm", image, "echo", "hi"]);
    expect(hi).toMatchObject({ code: 0, stdout: "hi\n" });
    // Attached with stdin (the hijacked attach carries it both ways), and the exit code comes back.
    const piped = await docker(ownerToken, ["run", "-i", "--rm", image, "sh", "-c", "read x; echo got-$x; exit 4"], { input: "abc\n" });
    expect(piped).toMatchObject({ code: 4, stdout: "got-abc\n" });

    const since = Math.floor(Date.now() / 1000) - 1;
    const started = await docker(ownerToken, ["run", "-d", "--name", "web", image, "sh", "-c", "echo started; i=0; while [ $i -lt 3000 ]; do sleep 0.2; i=$((i+1)); done"]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const ps = await docker(ownerToken, ["ps", "--format", "{{.Names}} {{.Image}}"]);
    expect(ps.stdout).toContain(`web ${image}`);
    const logs = await waitFor(() => docker(ownerToken, ["logs", "web"]), (r) => r.stdout.includes("started"), 15_000);
    expect(logs.stdout).toBe("started\n");

    const exec = await docker(ownerToken, ["exec", "web", "echo", "ok"]);
    expect(exec).toMatchObject({ code: 0, stdout: "ok\n" });
    const exitCode = await docker(ownerToken, ["exec", "web", "sh", "-c", "exit 5"]);
    expect(exitCode.code).toBe(5);
    const interactive = await docker(ownerToken, ["exec", "-i", "web", "sh"], { input: "echo from-stdin-$((6*7))\nexit 3\n" });
    expect(interactive).toMatchObject({ code: 3, stdout: "from-stdin-42\n" });

    // The non-upgraded form of exec start (no `Upgrade: tcp`): the output comes as the answer's body.
    const base = `/api/docker/${hostId}/v1.43`;
    const execCreated = await gatewayCall(gateway.url, "POST", `${base}/containers/web/exec`, { token: ownerToken, body: JSON.stringify({ AttachStdout: true, AttachStderr: true, Cmd: ["echo", "plain-start"] }) });
    expect(execCreated.status, execCreated.body).toBe(201);
    const execId = (JSON.parse(execCreated.body) as { Id: string }).Id;
    const plainStart = await gatewayCall(gateway.url, "POST", `${base}/exec/${execId}/start`, { token: ownerToken, body: JSON.stringify({ Detach: false, Tty: false }) });
    expect(plainStart.status).toBe(200);
    expect(plainStart.body).toContain("plain-start\n");
    // The end is recorded once the exec's exit code has been read, just after the output ends.
    const plainEnd = await waitFor(() => lastEvent({ action: "containers.exec.end", params: { path: ["execId"], equals: execId } }), (e) => e !== null, 10_000);
    expect(plainEnd).toMatchObject({ actorType: "token", outcome: "success", params: { exitCode: 0 } });

    // logs -f follows until the container exits, then the CLI returns.
    const short = await docker(ownerToken, ["run", "-d", "--name", "short", image, "sh", "-c", "echo one; sleep 1; echo two"]);
    expect(short.code, short.stderr).toBe(0);
    const followed = await docker(ownerToken, ["logs", "-f", "short"]);
    expect(followed).toMatchObject({ code: 0, stdout: "one\ntwo\n" });

    const stopped = await docker(ownerToken, ["stop", "-t", "1", "web"]);
    expect(stopped).toMatchObject({ code: 0, stdout: "web\n" });
    // The event stream, replayed from before the run up to a second from now.
    const events = await docker(ownerToken, ["events", "--since", String(since), "--until", String(Math.floor(Date.now() / 1000) + 1), "--filter", "container=web", "--format", "{{.Action}}"]);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout.split("\n")).toEqual(expect.arrayContaining(["create", "start", "die"]));
    const removed = await docker(ownerToken, ["rm", "web", "short"]);
    expect(removed.code, removed.stderr).toBe(0);
    const all = await docker(ownerToken, ["ps", "-a", "--format", "{{.Names}}"]);
    expect(all.stdout).not.toMatch(/web|short/);
    expect(await agentContainers()).not.toContain(id);

    // Audited with the token as the actor: the create with its image and name, the exec sessions with their exit codes.
    const create = await lastEvent({ action: "docker.containers.create", outcome: "success", params: { path: ["name"], equals: "web" } });
    expect(create).toMatchObject({ actorType: "token", hostId });
    expect(create!.params).toMatchObject({ method: "POST", endpoint: "POST /containers/create", image, privileged: false, networkMode: "default" });
    const execEnd = await lastEvent({ action: "containers.exec.end", params: { path: ["exitCode"], equals: 3 } });
    expect(execEnd).toMatchObject({ actorType: "token", hostId, outcome: "success" });
    expect(await lastEvent({ action: "containers.exec.start", outcome: "success", actorType: "token" })).not.toBeNull();
    expect(await lastEvent({ action: "docker.exec.create", outcome: "success", params: { path: ["cmd"], equals: ["sh"] } })).not.toBeNull();
    expect(await lastEvent({ action: "docker.containers.stop", outcome: "success", targetId: "web" })).not.toBeNull();
    expect(await lastEvent({ action: "docker.images.pull", outcome: "success" })).not.toBeNull();
    // Reads are not audited when allowed.
    expect(await lastEvent({ action: "docker.containers.list" })).toBeNull();
  });

  it("a Viewer's token reads but gets a clear 403 on docker run; a Deployer's privileged run is refused by the policy; both audited", async () => {
    const before = await agentContainers();
    const viewerPs = await docker(viewerToken, ["ps"]);
    expect(viewerPs.code, viewerPs.stderr).toBe(0);

    const viewerRun = await docker(viewerToken, ["run", "-d", "--name", "nope", image, "true"]);
    // 125 is docker run's "the daemon refused": the CLI turns any "permission denied" into 126 ("could not be invoked").
    expect(viewerRun.code).toBe(125);
    expect(viewerRun.stderr).toContain(`Error response from daemon: not allowed by Berth: needs containers.deploy on host ${HOST_NAME}`);
    const viewerAudit = await lastEvent({ action: "docker.containers.create", outcome: "denied", actorType: "token" });
    expect(viewerAudit).toMatchObject({ hostId, errorMessage: `not allowed by Berth: needs containers.deploy on host ${HOST_NAME}` });

    const privileged = await docker(deployerToken, ["run", "--rm", "--privileged", image, "true"]);
    expect(privileged.code).toBe(125);
    expect(privileged.stderr).toContain("Error response from daemon: Denied by the deploy policy: Allow privileged containers");
    const policyAudit = await lastEvent({ action: "docker.containers.create", outcome: "denied", params: { path: ["privileged"], equals: true } });
    expect(policyAudit).toMatchObject({ actorType: "token", hostId });
    expect(policyAudit!.errorMessage).toContain("Allow privileged containers");
    expect(policyAudit!.params).toMatchObject({ violations: [{ rule: "allowPrivileged" }] });

    // A bind mount of / is refused by name too; without it the Deployer's run works.
    const bind = await docker(deployerToken, ["run", "--rm", "-v", "/:/host", image, "true"]);
    expect(bind.stderr).toContain("Bind-mount path allowlist");
    const fine = await docker(deployerToken, ["run", "--rm", image, "echo", "deployed"]);
    expect(fine).toMatchObject({ code: 0, stdout: "deployed\n" });

    expect(await agentContainers()).toEqual(before);
  });

  it("a '#' in the path can't pass a privileged create (or prune, push, load) off as a read: refused before the agent, audited", async () => {
    const before = await agentContainers();
    const base = `/api/docker/${hostId}/v1.43`;
    const privileged = JSON.stringify({ Image: image, Cmd: ["true"], HostConfig: { Privileged: true, Binds: ["/:/host"] } });
    const mark = await auditMark();
    for (const token of [deployerToken, viewerToken]) {
      const r = await gatewayCall(gateway.url, "POST", `${base}/containers/create#/wait`, { token, body: privileged });
      expect(r.status, r.body).toBe(400);
      expect(JSON.parse(r.body).message).toMatch(/RFC 3986/);
    }
    for (const p of [`${base}/containers/prune#/x/wait`, `${base}/images/${encodeURIComponent("x")}/push#/json`, `${base}/images/load#/get`]) {
      const r = await gatewayCall(gateway.url, p.endsWith("/get") ? "GET" : "POST", p, { token: viewerToken });
      expect(r.status, `${p}: ${r.body}`).toBe(400);
    }
    expect(await agentContainers()).toEqual(before);
    const rows = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, action: { startsWith: "docker." } }, orderBy: { id: "asc" } });
    // Every attempt is on record as a denied request by its token; none as a create, wait, prune, push or load.
    expect(rows.filter((e) => e.action === "docker.request" && e.outcome === "denied" && e.actorType === "token" && /RFC 3986/.test(e.errorMessage ?? ""))).toHaveLength(5);
    expect(rows.filter((e) => /containers\.(create|wait|prune)|images\.(push|load|save)/.test(e.action))).toEqual([]);
  });

  it("docker inspect masks a deployment's secret env values; docker commit needs containers.exec as well", async () => {
    const deployed = await owner.trpc<{ containerId: string }>("containers.deploy", {
      hostId,
      spec: {
        image,
        name: "secretive",
        command: ["sh", "-c", "i=0; while [ $i -lt 3000 ]; do sleep 0.2; i=$((i+1)); done"],
        env: [
          { name: "MODE", value: "demo", secret: false },
          { name: "API_KEY", value: "s3cr3t-value", secret: true },
        ],
      },
    });
    expect(deployed.error, JSON.stringify(deployed.error)).toBeUndefined();
    try {
      const inspected = await docker(ownerToken, ["inspect", "--format", "{{json .Config.Env}}", "secretive"]);
      expect(inspected.code, inspected.stderr).toBe(0);
      const env = JSON.parse(inspected.stdout) as string[];
      expect(env).toEqual(expect.arrayContaining(["MODE=demo", "API_KEY=••••••"]));
      const raw = await gatewayCall(gateway.url, "GET", `/api/docker/${hostId}/v1.43/containers/${deployed.data!.containerId}/json`, { token: viewerToken });
      expect(raw.status).toBe(200);
      expect(raw.body).not.toContain("s3cr3t-value");
      expect(JSON.parse(raw.body)).toMatchObject({ Id: deployed.data!.containerId, Config: { Env: expect.arrayContaining(["API_KEY=••••••"]) } });

      // A token that may build images but not exec can't copy the environment into an image.
      const builder = await createToken(owner, { name: "builder", permissions: ["hosts.read", "containers.read", "images.read", "images.build"] });
      const mark = await auditMark();
      const commit = await docker(builder.secret, ["commit", "secretive", "leaked:1"]);
      expect(commit.code).not.toBe(0);
      expect(commit.stderr).toContain(`not allowed by Berth: needs containers.exec on host ${HOST_NAME}`);
      const images = await docker(ownerToken, ["images", "--format", "{{.Repository}}"]);
      expect(images.stdout.split("\n")).not.toContain("leaked");
      expect(await database.db.auditEvent.findFirst({ where: { id: { gt: mark }, action: "docker.images.commit", outcome: "denied", actorId: builder.id } })).not.toBeNull();
    } finally {
      expect((await docker(ownerToken, ["rm", "-f", "secretive"])).code).toBe(0);
    }
  });

  it("attach with stdin is audited as a session, start and end, hijacked (docker run -i) and plain", async () => {
    const mark = await auditMark();
    const piped = await docker(ownerToken, ["run", "-i", "--name", "stdin-session", image, "sh", "-c", "read x; echo got-$x"], { input: "abc\n" });
    expect(piped).toMatchObject({ code: 0, stdout: "got-abc\n" });
    const rows = () => database.db.auditEvent.findMany({ where: { id: { gt: mark }, action: { startsWith: "containers.attach." } }, orderBy: { id: "asc" } });
    const hijacked = await waitFor(rows, (r) => r.some((e) => e.action === "containers.attach.end"), 10_000);
    expect(hijacked.map((e) => [e.action, e.outcome, e.actorType, e.hostId, e.targetType])).toEqual([
      ["containers.attach.start", "success", "token", hostId, "container"],
      ["containers.attach.end", "success", "token", hostId, "container"],
    ]);
    expect(hijacked[1]!.params).toMatchObject({ stdin: true, via: "docker-proxy", closedBy: expect.any(String), durationMs: expect.any(Number) });
    expect((await docker(ownerToken, ["rm", "stdin-session"])).code).toBe(0);

    // The plain form (no Upgrade: tcp): the answer's body carries the output until the container exits.
    const run = await docker(ownerToken, ["run", "-d", "-i", "--name", "plain-attach", image, "sh", "-c", "sleep 3; echo bye"]);
    expect(run.code, run.stderr).toBe(0);
    const mark2 = await auditMark();
    const plain = await gatewayCall(gateway.url, "POST", `/api/docker/${hostId}/v1.43/containers/plain-attach/attach?stream=1&stdin=1&stdout=1`, { token: ownerToken });
    expect(plain.status).toBe(200);
    expect(plain.body).toContain("bye");
    const plainRows = await waitFor(
      () => database.db.auditEvent.findMany({ where: { id: { gt: mark2 }, action: { startsWith: "containers.attach." } }, orderBy: { id: "asc" } }),
      (r) => r.length >= 2,
      10_000,
    );
    expect(plainRows.map((e) => [e.action, e.outcome, e.targetId])).toEqual([
      ["containers.attach.start", "success", "plain-attach"],
      ["containers.attach.end", "success", "plain-attach"],
    ]);
    expect((await docker(ownerToken, ["rm", "-f", "plain-attach"])).code).toBe(0);
    // Without stdin, attaching is reading logs: not audited.
    expect(await database.db.auditEvent.count({ where: { id: { gt: mark }, action: { startsWith: "containers.attach." }, params: { path: ["stdin"], equals: false } } })).toBe(0);
  });

  it("under a registry allowlist, tag, build, commit and import can't name images in other registries, and load is refused", async () => {
    const registryHost = registry.hostFor(host.gatewayAddress);
    const current = await owner.trpc<Record<string, unknown>>("policy.get", { hostGroupId: null }, "query");
    expect(current.error).toBeUndefined();
    const set = await owner.trpc("policy.set", { hostGroupId: null, rules: { ...current.data!, registryAllowlist: [registryHost] } });
    expect(set.error, JSON.stringify(set.error)).toBeUndefined();
    try {
      const mark = await auditMark();
      const tagged = await docker(ownerToken, ["tag", image, "evil.io/x:1"]);
      expect(tagged.code).not.toBe(0);
      expect(tagged.stderr).toContain('Error response from daemon: Denied by the deploy policy: Image name "evil.io/x:1" is in registry "evil.io"');
      expect(tagged.stderr).toContain('rule "Registry allowlist"');
      const allowed = await docker(ownerToken, ["tag", image, `${registryHost}/test/retagged:1`]);
      expect(allowed.code, allowed.stderr).toBe(0);

      const base = `/api/docker/${hostId}/v1.43`;
      const refusals: [string, RegExp][] = [
        [`${base}/build?t=${encodeURIComponent(`${registryHost}/ok:1`)}&t=evil.io%2Fbuilt`, /Image name "evil.io\/built" is in registry "evil.io"/],
        [`${base}/commit?container=nope&repo=evil.io%2Fcommitted`, /Image name "evil.io\/committed"/],
        [`${base}/images/create?fromSrc=-&repo=evil.io%2Fimported`, /Image name "evil.io\/imported"/],
        [`${base}/images/load?quiet=1`, /docker load can't be checked against the allowed registries/],
      ];
      for (const [p, message] of refusals) {
        const r = await gatewayCall(gateway.url, "POST", p, { token: ownerToken, body: "x", headers: { "content-type": "application/x-tar" } });
        expect(r.status, `${p}: ${r.body}`).toBe(403);
        expect(JSON.parse(r.body).message, p).toMatch(message);
        expect(JSON.parse(r.body).message, p).toContain('rule "Registry allowlist"');
      }
      const repos = (await docker(ownerToken, ["images", "--format", "{{.Repository}}"])).stdout.split("\n");
      expect(repos).toContain(`${registryHost}/test/retagged`);
      expect(repos.filter((r) => r.startsWith("evil.io"))).toEqual([]);
      const denied = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, outcome: "denied", action: { in: ["docker.images.tag", "docker.images.build", "docker.images.commit", "docker.images.pull", "docker.images.load"] } } });
      expect(denied.map((e) => e.action).sort()).toEqual(["docker.images.build", "docker.images.commit", "docker.images.load", "docker.images.pull", "docker.images.tag"]);
      expect(denied.every((e) => JSON.stringify(e.params).includes("registryAllowlist"))).toBe(true);
    } finally {
      expect((await owner.trpc("policy.set", { hostGroupId: null, rules: current.data! })).error).toBeUndefined();
      await docker(ownerToken, ["rmi", `${registryHost}/test/retagged:1`]);
    }
  });

  it("an exec can be started, resized and read only by the user who created it through the proxy, on that host", async () => {
    const operatorEmail = "operator@example.test";
    await userWithRole(operatorEmail, "operator-password-123", "Operator");
    const operator = new HttpClient(gateway.url);
    expect((await operator.signIn(operatorEmail, "operator-password-123")).ok).toBe(true);
    const operatorToken = await createToken(operator, { name: "operator cli" });
    const run = await docker(ownerToken, ["run", "-d", "--name", "exec-owner", image, "sh", "-c", "i=0; while [ $i -lt 3000 ]; do sleep 0.2; i=$((i+1)); done"]);
    expect(run.code, run.stderr).toBe(0);
    try {
      const base = `/api/docker/${hostId}/v1.43`;
      const created = await gatewayCall(gateway.url, "POST", `${base}/containers/exec-owner/exec`, { token: ownerToken, body: JSON.stringify({ AttachStdout: true, Cmd: ["echo", "owner-exec"] }) });
      expect(created.status, created.body).toBe(201);
      const execId = (JSON.parse(created.body) as { Id: string }).Id;
      const mark = await auditMark();
      // Another user with containers.exec on the host: refused on every exec endpoint, audited; nothing runs.
      for (const [method, p] of [["POST", `${base}/exec/${execId}/start`], ["POST", `${base}/exec/${execId}/resize?h=10&w=10`], ["GET", `${base}/exec/${execId}/json`]] as const) {
        const r = await gatewayCall(gateway.url, method, p, { token: operatorToken.secret, ...(method === "POST" ? { body: JSON.stringify({ Detach: false }) } : {}) });
        expect(r.status, `${p}: ${r.body}`).toBe(403);
        expect(JSON.parse(r.body).message).toContain("was not created through the Berth Docker-API proxy by this user");
      }
      const denied = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, actorId: operatorToken.id, outcome: "denied" } });
      expect(denied.map((e) => e.action).sort()).toEqual(["containers.exec.start", "docker.exec.inspect", "docker.exec.resize"]);
      // The exec never ran: the owner reads it, and starts it (an exec starts once: a start that got through would make this fail).
      const inspect = await gatewayCall(gateway.url, "GET", `${base}/exec/${execId}/json`, { token: ownerToken });
      expect(inspect.status).toBe(200);
      expect(JSON.parse(inspect.body)).toMatchObject({ Running: false });
      const started = await gatewayCall(gateway.url, "POST", `${base}/exec/${execId}/start`, { token: ownerToken, body: JSON.stringify({ Detach: false, Tty: false }) });
      expect(started.status).toBe(200);
      expect(started.body).toContain("owner-exec");
      // An exec id the proxy never handed out (made on the host some other way, or guessed) is refused too.
      const unknown = await gatewayCall(gateway.url, "GET", `${base}/exec/${"0".repeat(64)}/json`, { token: ownerToken });
      expect(unknown.status).toBe(403);
    } finally {
      await docker(ownerToken, ["rm", "-f", "exec-owner"]);
    }
  });

  it("docker network create: a plain bridge network works; other drivers and driver options are refused with 400 before the agent", async () => {
    const ok = await docker(ownerToken, ["network", "create", "--label", "team=a", "proxy-net"]);
    expect(ok.code, ok.stderr).toBe(0);
    const macvlan = await docker(ownerToken, ["network", "create", "-d", "macvlan", "bad-driver"]);
    expect(macvlan.code).not.toBe(0);
    expect(macvlan.stderr).toContain('only the "bridge" driver is allowed through the Berth Docker-API proxy');
    const opts = await docker(ownerToken, ["network", "create", "-o", "com.docker.network.bridge.name=eth9", "bad-opts"]);
    expect(opts.code).not.toBe(0);
    expect(opts.stderr).toContain("driver options are not allowed through the Berth Docker-API proxy");
    const raw = await gatewayCall(gateway.url, "POST", `/api/docker/${hostId}/v1.43/networks/create`, { token: ownerToken, body: JSON.stringify({ Name: "bad-raw", Driver: "bridge", Peers: [] }) });
    expect(raw.status).toBe(400);
    const names = (await docker(ownerToken, ["network", "ls", "--format", "{{.Name}}"])).stdout.split("\n");
    expect(names).toContain("proxy-net");
    expect(names.filter((n) => n.startsWith("bad-"))).toEqual([]);
    expect(await lastEvent({ action: "docker.networks.create", outcome: "error", params: { path: ["name"], equals: "bad-opts" } })).toMatchObject({ actorType: "token", hostId });
    expect((await docker(ownerToken, ["network", "rm", "proxy-net"])).code).toBe(0);
  });

  it("token scope: a token for one host is refused on another; revoked and expired tokens are refused at once", async () => {
    const scoped = await createToken(owner, { name: "only proxy-host", hostIds: [hostId] });
    expect((await docker(scoped.secret, ["ps"])).code).toBe(0);
    // By name works as well as by id.
    expect((await docker(scoped.secret, ["ps"], { hostRef: HOST_NAME })).code).toBe(0);
    const elsewhere = await docker(scoped.secret, ["ps"], { hostRef: otherHostId });
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain(`not allowed by Berth: no host "${otherHostId}" that this token may use`);
    expect(await lastEvent({ actorId: scoped.id, outcome: "denied" })).not.toBeNull();

    const doomed = await createToken(owner, { name: "to revoke" });
    expect((await docker(doomed.secret, ["ps"])).code).toBe(0);
    expect((await owner.trpc("tokens.revoke", { id: doomed.id })).error).toBeUndefined();
    const revoked = await docker(doomed.secret, ["ps"]);
    expect(revoked.code).not.toBe(0);
    expect(revoked.stderr).toContain("this API token has been revoked");
    expect(await lastEvent({ actorId: doomed.id, outcome: "denied" })).toMatchObject({ actorType: "token", errorMessage: "token revoked" });

    // Revoked in the database directly (another gateway process, or psql), not through this gateway: the
    // proxy's 1 s memory of the token is dropped on the very next call (the AccessGeneration row moved).
    const bySql = await createToken(owner, { name: "revoked by SQL" });
    const containersPath = `/api/docker/${hostId}/v1.43/containers/json`;
    expect((await gatewayCall(gateway.url, "GET", containersPath, { token: bySql.secret })).status).toBe(200);
    expect((await gatewayCall(gateway.url, "GET", containersPath, { token: bySql.secret })).status).toBe(200);
    expect(await database.db.$executeRaw`UPDATE "ApiToken" SET "revokedAt" = now() WHERE "id" = ${bySql.id}`).toBe(1);
    const afterSql = await gatewayCall(gateway.url, "GET", containersPath, { token: bySql.secret });
    expect(afterSql.status, afterSql.body).toBe(401);
    expect(JSON.parse(afterSql.body).message).toBe("this API token has been revoked");
    // Its use (lastUsedAt) doesn't move the generation; a user disabled in SQL does.
    const generation = async () => (await database.db.$queryRaw<{ value: bigint }[]>`SELECT "value" FROM "AccessGeneration" WHERE "id" = 1`)[0]!.value;
    const g0 = await generation();
    await database.db.apiToken.update({ where: { id: bySql.id }, data: { lastUsedAt: new Date() } });
    expect(await generation()).toBe(g0);
    await database.db.$executeRaw`UPDATE "User" SET "disabled" = "disabled" WHERE "email" = ${OWNER.email}`;
    expect(await generation()).toBeGreaterThan(g0);

    const expiring = await createToken(owner, { name: "expiring", expiresAt: new Date(Date.now() + 3_600_000) });
    await database.db.apiToken.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await docker(expiring.secret, ["ps"]);
    expect(expired.code).not.toBe(0);
    expect(expired.stderr).toContain("this API token has expired");

    // Disabling the owner takes effect on the next request too (the proxy's 1 s memory of a token is dropped on any access change).
    expect((await docker(deployerToken, ["ps"])).code).toBe(0);
    const deployerId = (await database.db.user.findUniqueOrThrow({ where: { email: DEPLOYER.email } })).id;
    expect((await owner.trpc("users.setDisabled", { userId: deployerId, disabled: true })).error).toBeUndefined();
    const disabled = await docker(deployerToken, ["ps"]);
    expect(disabled.code).not.toBe(0);
    expect(disabled.stderr).toContain("the owner of this API token is disabled");

    const none = await docker(null, ["ps"]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain("authentication required");
  });

  it("a host that is down answers at once with a clear error; it works again when the host is back", async () => {
    await host.cutLink();
    try {
      const down = await waitFor(
        async () => (await owner.trpc<{ status: string }>("hosts.get", { hostId }, "query")).data,
        (h) => h?.status === "unreachable",
        60_000,
      );
      expect(down?.status).toBe("unreachable");
      const ps = await docker(ownerToken, ["ps"]);
      expect(ps.code).not.toBe(0);
      expect(ps.stderr).toContain(`Error response from daemon: host ${HOST_NAME} can't be reached through Berth`);
      const raw = await gatewayCall(gateway.url, "GET", `/api/docker/${hostId}/v1.43/containers/json`, { token: ownerToken });
      expect(raw.status).toBe(503);
      expect(raw.headers["content-type"]).toBe("application/json");
    } finally {
      await host.restoreLink();
    }
    const back = await waitFor(() => docker(ownerToken, ["ps"]), (r) => r.code === 0, 60_000);
    expect(back.code, back.stderr).toBe(0);
  });

  it("malformed bodies, paths outside the table (.. and %2e%2e tricks) and oversized bodies are refused before the agent", async () => {
    const before = await agentContainers();
    const base = `/api/docker/${hostId}/v1.43`;

    const malformed = await gatewayCall(gateway.url, "POST", `${base}/containers/create?name=bad`, { token: ownerToken, body: '{"Image": "x",' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(malformed.body).message).toMatch(/^invalid JSON in the request body/);
    expect(await lastEvent({ action: "docker.containers.create", outcome: "error", errorMessage: { startsWith: "invalid JSON" } })).not.toBeNull();

    const wrongType = await gatewayCall(gateway.url, "POST", `${base}/containers/create`, { token: ownerToken, body: JSON.stringify({ Image: image, HostConfig: { Privileged: "yes" } }) });
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.body).message).toContain("HostConfig.Privileged");
    const caseTrick = await gatewayCall(gateway.url, "POST", `${base}/containers/create`, { token: ownerToken, body: JSON.stringify({ Image: image, HostConfig: { privileged: true } }) });
    expect(caseTrick.status).toBe(400);
    expect(JSON.parse(caseTrick.body).message).toContain("use Privileged");

    const tricks: [string, number, RegExp][] = [
      [`${base}/containers/x/../../images/json`, 400, /dot segments/],
      [`${base}/containers/%2e%2e/%2e%2e/images/json`, 400, /percent-encoded/],
      [`${base}/containers/%2E%2E%2Fjson`, 400, /percent-encoded/],
      [`/api/docker/${hostId}//v1.43/containers/json`, 400, /empty path segments/],
      [`${base}/containers\\..\\json`, 400, /backslashes/],
      [`/api/docker/..%2f${hostId}/v1.43/containers/json`, 400, /percent-encoded/],
      [`${base}/containers/x/changes`, 403, /endpoint not available through the Berth Docker-API proxy: GET \/containers\/x\/changes/],
      [`${base}/plugins`, 403, /endpoint not available/],
      [`${base}/swarm/init`, 403, /endpoint not available/],
    ];
    for (const [p, status, message] of tricks) {
      const r = await gatewayCall(gateway.url, p.includes("swarm") ? "POST" : "GET", p, { token: ownerToken });
      expect(r.status, `${p}: ${r.body}`).toBe(status);
      expect(JSON.parse(r.body).message, p).toMatch(message);
    }
    expect(await lastEvent({ action: "docker.request", outcome: "denied", errorMessage: { contains: "dot segments" } })).toMatchObject({ actorType: "token" });

    const huge = JSON.stringify({ Image: image, Labels: { big: "x".repeat(2 * 1024 * 1024) } });
    const oversized = await gatewayCall(gateway.url, "POST", `${base}/containers/create?name=huge`, { token: ownerToken, body: huge });
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body).message).toMatch(/request body is larger than 1048576 bytes/);
    expect(await lastEvent({ action: "docker.containers.create", outcome: "denied", errorMessage: { contains: "larger than" } })).not.toBeNull();

    // A local volume with driver options would bind a host path past the bind-mount allowlist.
    const bindVolume = await docker(ownerToken, ["volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=/etc", "sneaky"]);
    expect(bindVolume.code).not.toBe(0);
    expect(bindVolume.stderr).toContain("volume drivers and driver options");
    const plainVolume = await docker(ownerToken, ["volume", "create", "plain-volume"]);
    expect(plainVolume).toMatchObject({ code: 0, stdout: "plain-volume\n" });
    expect((await docker(ownerToken, ["volume", "ls", "-q"])).stdout.split("\n")).not.toContain("sneaky");
    expect((await docker(ownerToken, ["volume", "rm", "plain-volume"])).code).toBe(0);

    // The CLI shows the refusal of a path outside the table as a daemon error.
    const diff = await docker(ownerToken, ["diff", "nope"]);
    expect(diff.code).not.toBe(0);
    expect(diff.stderr).toContain("endpoint not available through the Berth Docker-API proxy");

    expect(await agentContainers()).toEqual(before);
  });
  // Last: it makes this test's own address (127.0.0.1) fail authentication past the limit.
  it("token checked before the host is looked up; failed authentications from one address past the limit are answered 429 without a lookup", async () => {
    const bogus = generateTokenSecret();
    const mark = await auditMark();
    // An unknown host with a bad token: the answer is about the token, not the host.
    const first = await gatewayCall(gateway.url, "GET", "/api/docker/no-such-host/v1.43/containers/json", { token: bogus });
    expect(first.status).toBe(401);
    expect(JSON.parse(first.body).message).toBe("invalid API token");
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof gatewayCall>> | null = null;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await gatewayCall(gateway.url, "GET", `/api/docker/${hostId}/v1.43/containers/json`, { token: bogus });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(limited, statuses.join(",")).not.toBeNull();
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([401]));
    expect(Number(limited!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited!.body).message).toMatch(/too many failed authentications from this address/);
    // Denials are on record, summarised rather than one row each.
    const rows = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, action: "docker.auth" } });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.outcome === "denied")).toBe(true);
    expect(rows.some((r) => /summarised/.test(r.errorMessage ?? ""))).toBe(true);
    // The address is let in again once it slows down.
    const back = await waitFor(() => gatewayCall(gateway.url, "GET", `/api/docker/${hostId}/v1.43/containers/json`, { token: ownerToken }), (r) => r.status === 200, 30_000);
    expect(back.status).toBe(200);
  });
  // Very last: it stops the gateway.
  it("on shutdown, plain long streams (logs -f, events) are ended by the proxy too, and the gateway exits", async () => {
    const run = await docker(ownerToken, ["run", "-d", "--name", "chatty", image, "sh", "-c", "echo started; i=0; while [ $i -lt 3000 ]; do sleep 0.2; i=$((i+1)); done"]);
    expect(run.code, run.stderr).toBe(0);
    /** A streaming GET: resolves `open` once the answer's head is in, `ended` when the connection closes. */
    const follow = (rawPath: string) => {
      const url = new URL(gateway.url);
      let body = "";
      let onOpen: (status: number) => void = () => {};
      let onEnd: () => void = () => {};
      const open = new Promise<number>((r) => (onOpen = r));
      const ended = new Promise<void>((r) => (onEnd = r));
      const req = http.request({ host: url.hostname, port: url.port, method: "GET", path: rawPath, headers: { authorization: `Bearer ${ownerToken}` } }, (res) => {
        onOpen(res.statusCode ?? 0);
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.once("close", onEnd);
        res.once("error", onEnd);
      });
      req.once("error", () => {
        onOpen(0);
        onEnd();
      });
      req.end();
      return { open, ended, body: () => body };
    };
    const base = `/api/docker/${hostId}/v1.43`;
    const logs = follow(`${base}/containers/chatty/logs?follow=1&stdout=1&stderr=1`);
    const events = follow(`${base}/events`);
    expect(await logs.open).toBe(200);
    expect(await events.open).toBe(200);
    const started = await waitFor(async () => logs.body(), (b) => b.includes("started"), 15_000);
    expect(started).toContain("started");
    await gateway.stop();
    await Promise.all([logs.ended, events.ended]);
    expect(gateway.process.exitCode).toBe(0);
    expect(gateway.logs()).toMatch(/docker proxy: shutdown: ending [2-9]\d* open stream\(s\) \(0 hijacked, [2-9]\d* plain\)/);
    // The container keeps running on the host (the agent outlives the gateway): removed through the agent's socket.
    const removed = await agentCall(host.agent.socket, "DELETE", "/containers/chatty?force=1");
    expect(removed.status).toBeLessThan(300);
  });
});
