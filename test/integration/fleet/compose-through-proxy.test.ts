import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { defineComposeScenario } from "../../fixtures/compose-scenario";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import type { DockerResult } from "../../fixtures/docker-agent";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The docker-compose scenario of test/compat/compose-basics.test.ts, through
// a real gateway's Docker-API proxy with an API token (DOCKER_HOST=tcp://…/
// api/docker/<host>, the token in config.json's HttpHeaders, which docker-py
// sends), over SSH, to a real agent on a test host: it must behave exactly as
// on the socket. Every call it makes is authorised and audited as the token.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

let database: TestDatabase;
let gateway: Gateway;
let hosts: SshHostFleet;
let registry: TestRegistry;
let work: string;

defineComposeScenario(
  "docker-compose 1.29 through the gateway's Docker-API proxy",
  async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-compose-proxy-"));
    database = await createTestDatabase("composeproxy");
    hosts = await startSshHosts(1, { networkPoolPrefix: 22 });
    const host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    const image = `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`;
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const hostId = await addHostOverApi(owner, host, {
      name: "compose-host",
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });
    const token = await owner.trpc<{ secret: string }>("tokens.create", { name: "compose" });
    expect(token.error).toBeUndefined();
    // docker-compose (docker-py) and the docker CLI both read HttpHeaders from $DOCKER_CONFIG/config.json.
    const config = await mkdtemp(path.join(work, "docker-config-"));
    await writeFile(path.join(config, "config.json"), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token.data!.secret}` } }));
    const dockerHost = `tcp://127.0.0.1:${new URL(gateway.url).port}/api/docker/${hostId}`;
    const env = { DOCKER_CONFIG: config, DOCKER_HOST: dockerHost };
    const docker = (args: string[]) =>
      new Promise<DockerResult>((resolve) => {
        const childEnv = { PATH: process.env.PATH ?? "", HOME: work, ...env } as unknown as NodeJS.ProcessEnv;
        execFile("/usr/local/bin/docker", args, { encoding: "utf8", timeout: 90_000, killSignal: "SIGKILL", maxBuffer: 16 << 20, env: childEnv }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
      });
    const pulled = await docker(["pull", image]);
    expect(pulled.code, pulled.stderr).toBe(0);
    return { dockerHost, env, docker, image, publishAddress: host.address, port: 18080 };
  },
  async () => {
    // Nothing compose asked for was refused: no denial is on record for the token.
    const denied = await database?.db.auditEvent.count({ where: { actorType: "token", outcome: "denied" } });
    expect(denied).toBe(0);
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  },
);
