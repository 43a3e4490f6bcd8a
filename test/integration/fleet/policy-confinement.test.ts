import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { waitFor } from "../../fixtures/fleet-env";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The deploy policy held where only the host can tell, through a real gateway,
// over SSH, to a real agent: a bind source is judged by where it really leads
// (a symlink planted by another container can't take it out of the allowed
// path), and an image by where its content came from (not by a name docker tag
// gave it, nor by its ID). Through the console's API and the Docker-API proxy.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const DEPLOYER = { email: "deployer@example.test", password: "deployer-password-123" };
const HOST_NAME = "policy-host";

interface DeployAnswer {
  status: number;
  data?: { deploymentId: string; containerId: string; name: string };
  error?: { message: string; code: string; data: Record<string, unknown> };
}

describe("the deploy policy, held by the agent", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let allowedRegistry: TestRegistry;
  let otherRegistry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let deployer: HttpClient;
  let host: SshTestHost;
  let hostId: string;
  let goodImage: string;
  let evilImage: string;
  let deployerToken: string;
  let base: string;
  let allowed: string;

  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  const deploy = (client: HttpClient, spec: Record<string, unknown>) => client.trpc("containers.deploy", { hostId, spec }) as Promise<DeployAnswer>;

  async function agentContainerNames(): Promise<string[]> {
    const r = await deployer.trpc<{ containers: { Names: string[] }[] }>("containers.list", { hostId }, "query");
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    return r.data!.containers.map((c) => c.Names[0]!.replace(/^\//, ""));
  }

  function docker(token: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return (async () => {
      const config = await mkdtemp(path.join(work, "docker-config-"));
      await writeFile(path.join(config, "config.json"), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }));
      const port = new URL(gateway.url).port;
      return new Promise((resolve) => {
        execFile(
          "/usr/local/bin/docker",
          args,
          { timeout: 90_000, killSignal: "SIGKILL", env: { PATH: process.env.PATH ?? "", HOME: work, DOCKER_CONFIG: config, DOCKER_HOST: `tcp://127.0.0.1:${port}/api/docker/${hostId}` } as unknown as NodeJS.ProcessEnv },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
      });
    })();
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-policy-"));
    base = path.join("/srv", `berth-policy-${randomBytes(4).toString("hex")}`);
    allowed = path.join(base, "allowed");
    mkdirSync(allowed, { recursive: true });
    database = await createTestDatabase("policyconf");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    allowedRegistry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    otherRegistry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${allowedRegistry.host}/team/tools:latest`);
    // The same content would pass through either; a different image in the other registry makes the point clearer.
    const evil = await buildToolsImage(path.join(work, "evil"), { labels: { "org.berth.test.variant": "evil" } });
    await skopeoCopy(`oci:${evil.layoutDir}:${evil.tag}`, `docker://${otherRegistry.host}/evil/tools:latest`);
    goodImage = `${allowedRegistry.hostFor(host.gatewayAddress)}/team/tools:latest`;
    evilImage = `${otherRegistry.hostFor(host.gatewayAddress)}/evil/tools:latest`;

    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = await addHostOverApi(owner, host, {
      name: HOST_NAME,
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [allowedRegistry.hostFor(host.gatewayAddress), otherRegistry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });
    const set = await owner.trpc("policy.set", {
      hostGroupId: null,
      // docker.io too, as in the review: an image ID used to pass as docker.io/library/<hex>.
      rules: { bindMountAllowlist: [allowed], registryAllowlist: [allowedRegistry.hostFor(host.gatewayAddress), "docker.io"] },
    });
    expect(set.error, JSON.stringify(set.error)).toBeUndefined();

    const roleId = (await database.db.role.findUniqueOrThrow({ where: { name: "Deployer" } })).id;
    expect((await owner.trpc("users.create", { email: DEPLOYER.email, password: DEPLOYER.password, roleId })).error).toBeUndefined();
    deployer = new HttpClient(gateway.url);
    expect((await deployer.signIn(DEPLOYER.email, DEPLOYER.password)).ok).toBe(true);
    const token = await deployer.trpc<{ secret: string }>("tokens.create", { name: "deployer cli" });
    expect(token.error, JSON.stringify(token.error)).toBeUndefined();
    deployerToken = token.data!.secret;
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await allowedRegistry?.stop();
    await otherRegistry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("a symlink a Deployer's container plants can't give a second container the host's root", async () => {
    const planted = await deploy(deployer, {
      image: goodImage,
      name: "planter",
      command: ["sh", "-c", "ln -s / /data/escape; sleep 300"],
      mounts: [{ type: "bind", source: allowed, target: "/data" }],
    });
    expect(planted.error, JSON.stringify(planted.error)).toBeUndefined();
    // The symlink is there on the host, where the policy's path leads.
    const escape = path.join(allowed, "escape");
    for (let i = 0; i < 100 && !existsSync(escape); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(escape)).toBe(true);

    const reader = await deploy(deployer, { image: goodImage, name: "reader", command: ["ls", "/host"], mounts: [{ type: "bind", source: escape, target: "/host", readOnly: true }] });
    expect(reader.error?.code).toBe("FORBIDDEN");
    expect(reader.error?.message).toBe("Denied by the deploy policy: Bind-mount path allowlist.");
    // The violation names the field and says what the host found, for the form to show.
    expect(reader.error?.data.policyViolations).toEqual([
      expect.objectContaining({ rule: "bindMountAllowlist", field: "mounts.0.source", message: expect.stringContaining(`bind mount of ${escape} is not allowed: it leads to /, outside the allowed paths (${allowed})`) }),
    ]);
    // Nothing is left of it: no container, no deployment; and the refusal is on record.
    expect(await agentContainerNames()).not.toContain("reader");
    expect(await database.db.deployment.findFirst({ where: { hostId, name: "reader" } })).toBeNull();
    const denied = await lastEvent({ action: "containers.deploy", outcome: "denied" });
    expect(denied?.errorMessage).toContain("Bind-mount path allowlist");

    // Through the Docker-API proxy the same: docker run exits 125 with the agent's reason.
    const run = await docker(deployerToken, ["run", "--rm", "-v", `${escape}:/host:ro`, goodImage, "ls", "/host"]);
    expect(run.code).toBe(125);
    expect(run.stderr).toContain(`bind mount of ${escape} is not allowed: it leads to /`);
    expect(run.stdout).toBe("");
    // The proxy records a forwarded call's outcome as its answer ends: a moment after the CLI has it.
    const proxyDenied = await waitFor(() => lastEvent({ action: "docker.containers.start", outcome: "denied" }), (e) => e !== null, 10_000);
    expect(proxyDenied?.errorMessage).toContain("it leads to /, outside the allowed paths");
  });

  it("an image renamed into an allowed registry's name is judged by where its content came from", async () => {
    expect((await deployer.trpc("images.pull", { hostId, reference: evilImage })).error).toBeUndefined();
    const disguised = `${allowedRegistry.hostFor(host.gatewayAddress)}/team/tools:disguised`;
    const tagged = await deployer.trpc("images.tag", { hostId, image: evilImage, target: disguised });
    expect(tagged.error, JSON.stringify(tagged.error)).toBeUndefined();

    const r = await deploy(deployer, { image: disguised, name: "disguised", pullPolicy: "missing" });
    expect(r.error?.code).toBe("FORBIDDEN");
    expect(r.error?.message).toContain("Registry allowlist");
    const event = await lastEvent({ action: "containers.deploy", outcome: "denied" });
    expect(event?.errorMessage).toContain("Registry allowlist");
    expect(await agentContainerNames()).not.toContain("disguised");

    // The console's check as you type says so too, naming where the content came from.
    const check = await deployer.trpc<{ violations: { rule: string; message: string }[] }>("policy.check", { hostId, spec: { image: disguised } }, "query");
    expect(check.data?.violations).toEqual([
      expect.objectContaining({ rule: "registryAllowlist", message: expect.stringContaining(`its content came from ${otherRegistry.hostFor(host.gatewayAddress)}`) }),
    ]);

    // And through the proxy: docker tag, then docker run of the allowed-looking name.
    const proxyTagged = `${allowedRegistry.hostFor(host.gatewayAddress)}/team/tools:disguised2`;
    expect((await docker(deployerToken, ["tag", evilImage, proxyTagged])).code).toBe(0);
    const run = await docker(deployerToken, ["run", "--rm", proxyTagged, "true"]);
    expect(run.code).toBe(125);
    expect(run.stderr).toContain(`its content came from ${otherRegistry.hostFor(host.gatewayAddress)}`);
    const proxyDenied = await waitFor(() => lastEvent({ action: "docker.containers.create", outcome: "denied" }), (e) => e !== null, 10_000);
    expect(proxyDenied?.errorMessage).toContain("Registry allowlist");

    // Pulled from the allowed registry, the real image deploys.
    const good = await deploy(deployer, { image: goodImage, name: "good", command: ["sleep", "300"] });
    expect(good.error, JSON.stringify(good.error)).toBeUndefined();
  });

  it("an image named by its ID is judged by the image it resolves to", async () => {
    const listed = await deployer.trpc<{ id: string; tags: string[] }[]>("images.list", { hostId }, "query");
    expect(listed.error).toBeUndefined();
    const evil = listed.data!.find((i) => i.tags.includes(evilImage));
    const good = listed.data!.find((i) => i.tags.includes(goodImage));
    expect(evil && good).toBeTruthy();
    for (const ref of [evil!.id, evil!.id.slice(7, 19)]) {
      const r = await deploy(deployer, { image: ref, name: `by-id-${ref.length}`, pullPolicy: "missing" });
      expect(r.error?.code).toBe("FORBIDDEN");
      expect(r.error?.data.policyViolations).toEqual([
        expect.objectContaining({ rule: "registryAllowlist", message: expect.stringContaining(`its content came from ${otherRegistry.hostFor(host.gatewayAddress)}`) }),
      ]);
    }
    const byId = await deploy(deployer, { image: good!.id.slice(7, 19), name: "good-by-id", pullPolicy: "missing", command: ["true"] });
    expect(byId.error, JSON.stringify(byId.error)).toBeUndefined();

    const proxyRun = await docker(deployerToken, ["run", "--rm", evil!.id.slice(7, 19), "true"]);
    expect(proxyRun.code).toBe(125);
    expect(proxyRun.stderr).toContain(`its content came from ${otherRegistry.hostFor(host.gatewayAddress)}`);
  });

  it("a client can't send the agent its own confinement through the proxy", async () => {
    const port = new URL(gateway.url).port;
    const body = JSON.stringify({ Image: evilImage, Cmd: ["true"] });
    const res = await fetch(`http://127.0.0.1:${port}/api/docker/${hostId}/v1.43/containers/create`, {
      method: "POST",
      headers: { authorization: `Bearer ${deployerToken}`, "content-type": "application/json", "x-berth-confinement": "e30" },
      body,
    });
    expect(res.status).toBe(403);
  });

  it("a Deployer can't change what a deployment with secrets runs (it could print them) without containers.exec", async () => {
    const made = await deploy(deployer, { image: goodImage, name: "secretive", command: ["sleep", "300"], env: [{ name: "API_KEY", value: "s3cret-value", secret: true }] });
    expect(made.error, JSON.stringify(made.error)).toBeUndefined();
    const saved = await deployer.trpc<{ spec: Record<string, unknown> }>("containers.deployment", { hostId, deploymentId: made.data!.deploymentId }, "query");
    for (const change of [{ command: ["sh", "-c", "echo $API_KEY"] }, { entrypoint: ["env"] }, { user: "1000" }]) {
      const edited = { ...saved.data!.spec, ...change };
      const r = await deployer.trpc("containers.update", { hostId, deploymentId: made.data!.deploymentId, spec: edited });
      expect(r.error?.code).toBe("FORBIDDEN");
      expect(r.error?.message).toContain("needs the containers.exec permission on this host");
    }
    const event = await lastEvent({ action: "containers.update", outcome: "denied" });
    expect(event?.errorMessage).toContain("secret environment values");
    // Nothing ran that printed it.
    const logs = await deployer.trpc<{ lines?: { text: string }[] }>("containers.logs", { hostId, containerId: made.data!.containerId }, "query");
    expect(JSON.stringify(logs.data ?? {})).not.toContain("s3cret-value");
    // The owner (who holds containers.exec) may.
    const byOwner = await owner.trpc("containers.update", { hostId, deploymentId: made.data!.deploymentId, spec: { ...saved.data!.spec, command: ["sleep", "301"] } });
    expect(byOwner.error, JSON.stringify(byOwner.error)).toBeUndefined();
  });

  it("very deep JSON is a 400 through the proxy and the REST API, not a 500", async () => {
    const port = new URL(gateway.url).port;
    const deep = `{"Image":"x","Labels":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}`;
    const proxy = await fetch(`http://127.0.0.1:${port}/api/docker/${hostId}/v1.43/containers/create`, {
      method: "POST",
      headers: { authorization: `Bearer ${deployerToken}`, "content-type": "application/json" },
      body: deep,
    });
    expect(proxy.status).toBe(400);
    expect(((await proxy.json()) as { message: string }).message).toContain("nests 20001 levels deep; at most 64 are accepted");
    const rest = await fetch(`http://127.0.0.1:${port}/api/v1/hosts/${hostId}/containers`, {
      method: "POST",
      headers: { authorization: `Bearer ${deployerToken}`, "content-type": "application/json" },
      body: `{"image":"x","labels":${"[".repeat(20_000)}${"]".repeat(20_000)}}`,
    });
    expect(rest.status).toBe(400);
    expect(((await rest.json()) as { error: { message: string } }).error.message).toContain("levels deep");
  });
});
