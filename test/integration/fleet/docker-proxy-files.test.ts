import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { displayPrefix, generateTokenSecret, hashTokenSecret } from "../../../server/tokens/format";
import { agentCall } from "../../fixtures/agent-socket";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// What issue 17 adds to the Docker-API proxy, driven by the stock docker CLI
// (and docker-compose) through a real gateway, over SSH, to a real agent:
// docker cp both ways and export (containers.exec; every cp and export on
// record), docker update judged by the deploy policy's resource rules,
// --volumes-from judged by the mounts it brings, and uploads bigger than the
// JSON body cap.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const DEPLOYER = { email: "deployer@example.test", password: "deployer-password-123" };
const VIEWER = { email: "viewer@example.test", password: "viewer-password-123" };
const DOCKER = "/usr/local/bin/docker";
const HOST_NAME = "files-host";
const MiB = 1024 * 1024;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe("docker cp, export, update and --volumes-from through the Docker-API proxy", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let host: SshTestHost;
  let work: string;
  let owner: HttpClient;
  let hostId: string;
  let image: string;
  let ownerToken: string;
  let deployerToken: string;
  let viewerToken: string;

  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  const auditMark = async () => (await database.db.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0n;
  const eventsSince = (mark: bigint, action: string) => database.db.auditEvent.findMany({ where: { id: { gt: mark }, action }, orderBy: { id: "asc" } });

  function env(token: string | null, config: string): NodeJS.ProcessEnv {
    const port = new URL(gateway.url).port;
    return { PATH: process.env.PATH ?? "", HOME: work, DOCKER_CONFIG: config, DOCKER_HOST: `tcp://127.0.0.1:${port}/api/docker/${hostId}` } as unknown as NodeJS.ProcessEnv;
  }

  async function configFor(token: string | null): Promise<string> {
    const config = await mkdtemp(path.join(work, "docker-config-"));
    if (token) await writeFile(path.join(config, "config.json"), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }));
    return config;
  }

  /** A program with DOCKER_HOST at the proxy and the token in a fresh config dir's HttpHeaders. */
  async function runWith(token: string | null, file: string, args: string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
    const environment = env(token, await configFor(token));
    return new Promise((resolve) => {
      execFile(file, args, { cwd: o.cwd, timeout: o.timeoutMs ?? 120_000, killSignal: "SIGKILL", maxBuffer: 64 << 20, env: environment }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }
  const docker = (token: string | null, args: string[]) => runWith(token, DOCKER, args);
  const shell = (token: string | null, line: string) => runWith(token, "sh", ["-c", line]);

  /** The agent's own view, over its socket: what the proxy let through. */
  async function agentExec(container: string, line: string): Promise<string> {
    const created = await agentCall(host.agent.socket, "POST", `/containers/${container}/exec`, { AttachStdout: true, AttachStderr: true, Cmd: ["sh", "-c", line] });
    expect(created.status, created.text).toBe(201);
    const started = await agentCall(host.agent.socket, "POST", `/exec/${(JSON.parse(created.text) as { Id: string }).Id}/start`, { Detach: false, Tty: true });
    // A terminal's output, without what the terminal adds.
    return started.text.replace(/[^\x20-\x7e\n]/g, "");
  }

  /** The agent's containers (ids), over its socket. */
  async function agentContainers(): Promise<string[]> {
    const r = await agentCall(host.agent.socket, "GET", "/containers/json?all=1");
    expect(r.status, r.text).toBe(200);
    return (JSON.parse(r.text) as { Id: string }[]).map((c) => c.Id).sort();
  }

  async function setPolicy(rules: Record<string, unknown>): Promise<void> {
    const set = await owner.trpc("policy.set", { hostGroupId: null, rules });
    expect(set.error, JSON.stringify(set.error)).toBeUndefined();
  }

  async function userToken(email: string, password: string, roleName: string): Promise<string> {
    const roleId = (await database.db.role.findUniqueOrThrow({ where: { name: roleName } })).id;
    const user = await owner.trpc<{ id: string }>("users.create", { email, password, roleId });
    expect(user.error).toBeUndefined();
    // Stored as tokens.create stores one (a Viewer may not make tokens).
    const secret = generateTokenSecret();
    await database.db.apiToken.create({ data: { userId: user.data!.id, name: `${roleName} cli`, prefix: displayPrefix(secret), hash: hashTokenSecret(secret) } });
    return secret;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-proxy-files-"));
    database = await createTestDatabase("dproxyfiles");
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
    const token = await owner.trpc<{ secret: string }>("tokens.create", { name: "owner cli" });
    expect(token.error).toBeUndefined();
    ownerToken = token.data!.secret;
    deployerToken = await userToken(DEPLOYER.email, DEPLOYER.password, "Deployer");
    viewerToken = await userToken(VIEWER.email, VIEWER.password, "Viewer");
    const pulled = await docker(ownerToken, ["pull", image]);
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("docker cp in and out and docker export work with the token, past the JSON body cap, each on record", async () => {
    const name = `files-${randomBytes(3).toString("hex")}`;
    const started = await docker(ownerToken, ["run", "-d", "--name", name, image, "sh", "-c", "echo made-inside > /srv/inside.txt; sleep 600"]);
    expect(started.code, started.stderr).toBe(0);

    // 3 MiB: three times BERTH_MAX_BODY_BYTES, which caps JSON bodies, not archives.
    const big = path.join(work, "big.bin");
    await writeFile(big, randomBytes(3 * MiB));
    const mark = await auditMark();
    const into = await docker(ownerToken, ["cp", big, `${name}:/srv/big.bin`]);
    expect(into.code, into.stderr + gateway.logs().slice(-2000)).toBe(0);
    expect(await agentExec(name, "wc -c < /srv/big.bin")).toMatch(new RegExp(`(^|\\D)${3 * MiB}\\s*$`));

    const out = path.join(work, "out");
    await mkdir(out);
    const back = await docker(ownerToken, ["cp", `${name}:/srv/big.bin`, path.join(out, "big.bin")]);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(path.join(out, "big.bin")).equals(readFileSync(big))).toBe(true);
    const inside = await shell(ownerToken, `docker cp ${name}:/srv/inside.txt - | tar -xO`);
    expect(inside.stdout).toBe("made-inside\n");

    const exported = await shell(ownerToken, `docker export ${name} | tar -t`);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.split("\n")).toEqual(expect.arrayContaining(["bin/busybox", "srv/big.bin", "srv/inside.txt"]));

    // Each on record as the token: the upload's intent before it reached the host, then its outcome, with the path.
    // (Outcomes are written once the answer has gone out: the CLI may be done first.)
    const uploads = await waitFor(() => eventsSince(mark, "docker.containers.copyTo"), (rows) => rows.length > 0, 10_000);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({ actorType: "token", hostId, outcome: "success", targetId: name, params: expect.objectContaining({ method: "PUT", endpoint: "PUT /containers/{id}/archive", path: "/srv" }) });
    expect(await database.db.auditEvent.count({ where: { id: { gt: mark }, action: "docker.containers.copyTo.intent" } })).toBe(1);
    const reads = await waitFor(() => eventsSince(mark, "docker.containers.copyFrom"), (rows) => rows.length >= 2, 10_000);
    expect(reads.filter((e) => e.outcome === "success").map((e) => (e.params as { path: string }).path)).toEqual(["/srv/big.bin", "/srv/inside.txt"]);
    expect(await database.db.auditEvent.count({ where: { id: { gt: mark }, action: "docker.containers.copyFrom.intent" } })).toBe(2);
    const exportRecord = await waitFor(() => lastEvent({ action: "docker.containers.export", outcome: "success", targetId: name }), (e) => e !== null, 10_000);
    expect(exportRecord).toMatchObject({ actorType: "token", hostId });
    // A stat alone (the CLI's HEAD before copying in) is a read: not recorded when allowed.
    expect(await eventsSince(mark, "docker.containers.archiveStat")).toEqual([]);

    expect((await docker(ownerToken, ["rm", "-f", name])).code).toBe(0);
  });

  it("a Viewer, and a Deployer without exec, are refused cp both ways and export; nothing is written; each refusal on record", async () => {
    const name = `guarded-${randomBytes(3).toString("hex")}`;
    expect((await docker(ownerToken, ["run", "-d", "--name", name, image, "sleep", "600"])).code).toBe(0);
    const src = path.join(work, "planted.txt");
    await writeFile(src, "planted\n");
    for (const [who, token] of [["Viewer", viewerToken], ["Deployer", deployerToken]] as const) {
      const mark = await auditMark();
      const into = await docker(token, ["cp", src, `${name}:/srv/planted.txt`]);
      expect(into.code, who).not.toBe(0);
      expect(into.stderr).toContain(`not allowed by Berth: needs containers.exec on host ${HOST_NAME}`);
      const out = await docker(token, ["cp", `${name}:/etc/passwd`, path.join(work, `passwd-${who}`)]);
      expect(out.code, who).not.toBe(0);
      expect(out.stderr).toContain("needs containers.exec");
      expect(existsSync(path.join(work, `passwd-${who}`))).toBe(false);
      const exported = await docker(token, ["export", "-o", path.join(work, `export-${who}.tar`), name]);
      expect(exported.code, who).not.toBe(0);
      expect(exported.stderr).toContain("needs containers.exec");

      const denied = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, outcome: "denied", actorType: "token" }, orderBy: { id: "asc" } });
      const actions = denied.map((e) => e.action);
      // The CLI stats the destination first (HEAD) and stops at its refusal; GET and export are refused themselves.
      expect(actions).toEqual(expect.arrayContaining(["docker.containers.archiveStat", "docker.containers.copyTo", "docker.containers.copyFrom", "docker.containers.export"]));
      expect(denied.every((e) => e.hostId === hostId && /needs containers\.exec/.test(e.errorMessage ?? ""))).toBe(true);
    }
    // A raw PUT, without the CLI's stat first: refused before the agent, nothing written.
    const port = new URL(gateway.url).port;
    const put = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "PUT", path: `/api/docker/${hostId}/v1.43/containers/${name}/archive?path=/srv`, headers: { authorization: `Bearer ${viewerToken}`, "content-type": "application/x-tar" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(Buffer.alloc(1024));
    });
    expect(put).toBe(403);
    expect(await lastEvent({ action: "docker.containers.copyTo", outcome: "denied" })).toMatchObject({ actorType: "token", params: expect.objectContaining({ container: name, path: "/srv" }) });
    expect(await agentExec(name, "ls /srv/planted.txt 2>&1 || true")).toContain("No such file");
    expect((await docker(ownerToken, ["rm", "-f", name])).code).toBe(0);
  });

  it("an archive over its cap (1024 × BERTH_MAX_BODY_BYTES) is refused before it reaches the host", async () => {
    const port = new URL(gateway.url).port;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, method: "PUT", path: `/api/docker/${hostId}/v1.43/containers/anything/archive?path=/srv`, headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/x-tar", "content-length": String(1024 * MiB + 1) } },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      // The head alone: the refusal comes before any of the body is needed.
      req.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).message).toBe(`request body is larger than ${1024 * MiB} bytes`);
    expect(await lastEvent({ action: "docker.containers.copyTo", outcome: "denied", errorMessage: { contains: "larger than" } })).toMatchObject({ actorType: "token" });
  });

  it("docker update is judged by the deploy policy's memory and CPU rules: refused above the maximum and without a limit, on record", async () => {
    const name = `limits-${randomBytes(3).toString("hex")}`;
    // Made before the policy: no memory limit.
    expect((await docker(ownerToken, ["run", "-d", "--name", name, image, "sleep", "600"])).code).toBe(0);
    await setPolicy({ maxMemoryBytes: 64 * MiB, maxCpus: 1 });
    try {
      const mark = await auditMark();
      const above = await docker(ownerToken, ["update", "--memory", "128m", "--memory-swap", "-1", "--cpus", "0.5", name]);
      expect(above.code).not.toBe(0);
      expect(above.stderr).toContain("Denied by the deploy policy: Maximum memory limit. Memory limit 128 MiB is above the maximum of 64 MiB");
      const cpus = await docker(ownerToken, ["update", "--memory", "32m", "--memory-swap", "-1", "--cpus", "2", name]);
      expect(cpus.stderr).toContain("Denied by the deploy policy: Maximum CPU limit. CPU limit 2 is above the maximum of 1 CPUs");
      // Only the restart policy: the container would still have no memory or CPU limit, which this policy requires.
      const restartOnly = await docker(ownerToken, ["update", "--restart", "always", name]);
      expect(restartOnly.stderr).toContain("A memory limit of at most 64 MiB is required");
      expect(restartOnly.stderr).toContain("A CPU limit of at most 1 CPUs is required");

      const denied = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, action: "docker.containers.update", outcome: "denied" }, orderBy: { id: "asc" } });
      expect(denied).toHaveLength(3);
      expect(denied[0]).toMatchObject({ actorType: "token", hostId, targetId: name, params: expect.objectContaining({ memoryBytes: 128 * MiB, cpus: 0.5, violations: [expect.objectContaining({ rule: "maxMemoryBytes" })] }) });
      expect(denied[1]!.params).toMatchObject({ cpus: 2, violations: [expect.objectContaining({ rule: "maxCpus" })] });
      expect(denied[2]!.params).toMatchObject({ restartPolicy: "always", violations: [expect.objectContaining({ rule: "maxMemoryBytes" }), expect.objectContaining({ rule: "maxCpus" })] });
      // None of them reached the host.
      expect(await database.db.auditEvent.count({ where: { id: { gt: mark }, action: "docker.containers.update.intent" } })).toBe(0);

      // Within the rules: judged, recorded before it is forwarded, and forwarded.
      await docker(ownerToken, ["update", "--memory", "32m", "--memory-swap", "-1", "--cpus", "0.5", name]);
      expect(await database.db.auditEvent.count({ where: { id: { gt: mark }, action: "docker.containers.update.intent" } })).toBe(1);
      // The outcome is written once the agent's answer has gone out (the CLI may be done first).
      const forwarded = await waitFor(() => lastEvent({ action: "docker.containers.update", outcome: { not: "denied" } }), (e) => e !== null, 10_000);
      expect(forwarded).toMatchObject({ actorType: "token", targetId: name, params: expect.objectContaining({ memoryBytes: 32 * MiB, cpus: 0.5 }) });
      // A Deployer may deploy: judged the same way.
      const deployer = await docker(deployerToken, ["update", "--memory", "1g", name]);
      expect(deployer.stderr).toContain("above the maximum of 64 MiB");
      // A Viewer may not.
      const viewer = await docker(viewerToken, ["update", "--memory", "32m", name]);
      expect(viewer.stderr).toContain(`not allowed by Berth: needs containers.deploy on host ${HOST_NAME}`);
    } finally {
      await setPolicy({});
      await docker(ownerToken, ["rm", "-f", name]);
    }
  });

  it("--volumes-from brings its source's mounts to the policy: an inherited bind outside the allowlist is refused, volumes pass", async () => {
    const bindDir = await mkdtemp(path.join(work, "bind-"));
    const withBind = `src-bind-${randomBytes(3).toString("hex")}`;
    const withVolume = `src-vol-${randomBytes(3).toString("hex")}`;
    // Made on the host itself (the proxy's policy allows no binds by default): someone else's containers.
    for (const [name, binds] of [[withBind, [`${bindDir}:/shared`]], [withVolume, ["/data"]]] as const) {
      const made = await agentCall(host.agent.socket, "POST", `/containers/create?name=${name}`, { Image: image, Cmd: ["true"], HostConfig: { Binds: binds } });
      expect(made.status, made.text).toBe(201);
    }
    await setPolicy({ bindMountAllowlist: ["/srv/berth-allowed"] });
    try {
      const before = await agentContainers();
      const refused = await docker(ownerToken, ["create", "--volumes-from", withBind, image, "cat", "/shared/x"]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`Bind mount of "${bindDir}" is outside the allowed paths (/srv/berth-allowed)`);
      const audit = await lastEvent({ action: "docker.containers.create", outcome: "denied", params: { path: ["volumesFrom"], equals: [withBind] } });
      expect(audit).toMatchObject({ actorType: "token", hostId });
      expect(audit!.params).toMatchObject({ inheritedMounts: [`bind:${bindDir}:/shared`], violations: [expect.objectContaining({ rule: "bindMountAllowlist" })] });
      expect(await agentContainers()).toEqual(before);

      const allowed = await docker(ownerToken, ["create", "--volumes-from", `${withVolume}:ro`, image, "ls", "/data"]);
      expect(allowed.code, allowed.stderr).toBe(0);
      // The outcome is written once the agent's answer has gone out (the CLI may be done first).
      const created = await waitFor(() => lastEvent({ action: "docker.containers.create", outcome: "success", params: { path: ["volumesFrom"], equals: [`${withVolume}:ro`] } }), (e) => e !== null, 10_000);
      // Judged by what the source has (an anonymous volume), forwarded naming the very container looked at.
      expect(created!.params).toMatchObject({ inheritedMounts: [expect.stringMatching(/^volume:[0-9a-f]{64}:\/data:ro$/)] });
      await docker(ownerToken, ["rm", allowed.stdout.trim()]);
    } finally {
      await setPolicy({});
      await docker(ownerToken, ["rm", withBind, withVolume]);
    }
  });

  it("a docker-compose project (named volume, volumes_from, environment, published port) goes up and down through the proxy", async () => {
    const project = path.join(work, "compose-project");
    await mkdir(project);
    await writeFile(
      path.join(project, "docker-compose.yml"),
      [
        'version: "3.7"',
        "services:",
        "  web:",
        `    image: ${image}`,
        '    command: ["sh", "-c", "echo web says $$GREETING; sleep 600"]',
        "    environment:",
        "      GREETING: hello",
        "    network_mode: bridge",
        '    ports: ["18181:80"]',
        '    volumes: ["data:/data"]',
        "  worker:",
        `    image: ${image}`,
        '    command: ["sleep", "600"]',
        "    network_mode: bridge",
        '    volumes_from: ["web"]',
        "volumes:",
        "  data: {}",
        "",
      ].join("\n"),
    );
    const compose = (args: string[]) => runWith(ownerToken, "docker-compose", ["-p", "viaproxy", ...args], { cwd: project });
    const before = await agentContainers();
    const mark = await auditMark();
    const up = await compose(["up", "-d"]);
    expect(up.code, up.stdout + up.stderr + gateway.logs().slice(-3000)).toBe(0);
    const logs = await compose(["logs", "web"]);
    expect(logs.stdout).toContain("web says hello");
    const down = await compose(["down", "-v"]);
    expect(down.code, down.stderr).toBe(0);
    expect(await agentContainers()).toEqual(before);
    expect((await agentCall(host.agent.socket, "GET", "/volumes")).text).not.toContain("viaproxy_data");
    // Nothing compose asked for was refused, and its creates are on record as the token, the worker's with what it inherits.
    expect(await database.db.auditEvent.count({ where: { id: { gt: mark }, outcome: "denied" } })).toBe(0);
    const creates = await database.db.auditEvent.findMany({ where: { id: { gt: mark }, action: "docker.containers.create", outcome: "success" } });
    expect(creates.every((e) => e.actorType === "token")).toBe(true);
    const worker = creates.find((e) => Array.isArray((e.params as { volumesFrom?: unknown }).volumesFrom));
    expect(worker?.params).toMatchObject({ inheritedMounts: ["volume:viaproxy_data:/data"] });
  });
});
