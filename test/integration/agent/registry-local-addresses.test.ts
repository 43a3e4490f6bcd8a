import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../../server/database/free-port";
import { startDockerAgent, type DockerAgent } from "../../fixtures/docker-agent";
import { startHostileRegistry, type HostileRegistry } from "../../fixtures/hostile-registry";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { SSHD_BINARY } from "../../fixtures/ssh-hosts";
import { buildSimpleImage } from "../../fixtures/test-images";

// Pulls must not probe the host's own services. A real agent (docker CLI on
// its socket) next to this machine's real loopback services: the suite's
// Postgres, an OpenSSH sshd, and a port nothing listens on. Without being
// allowed, none of them is even connected to; allowed, they all fail with the
// same words, and only the agent's log says what happened.

const run = promisify(execFile);

/** The docker CLI's error with the port taken out: what is left must not tell the services apart. */
const shape = (stderr: string, port: number) => stderr.trim().replaceAll(String(port), "PORT");

/** An sshd of the machine's own openssh-server, on 127.0.0.1 only, logging every connection. */
async function startLoopbackSshd(dir: string): Promise<{ port: number; log: () => Promise<string>; stop: () => Promise<void> }> {
  const key = path.join(dir, "host_ed25519");
  const log = path.join(dir, "sshd.log");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  // Privilege separation directory, shared with any system sshd: created if missing, never removed.
  await mkdir("/run/sshd", { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    SSHD_BINARY,
    ["-D", "-f", "/dev/null", "-h", key, "-p", String(port), "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none", "-o", "LogLevel=VERBOSE", "-E", log],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
  for (let i = 0; i < 100 && child.exitCode === null && !(await accepts()); i++) await new Promise((r) => setTimeout(r, 100));
  if (child.exitCode !== null) throw new Error(`sshd exited at start: ${existsSync(log) ? await readFile(log, "utf8") : ""}`);
  return {
    port,
    log: () => readFile(log, "utf8").catch(() => ""),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

describe("registries on the host's own addresses", () => {
  let work: string;
  let registry: TestRegistry;
  let hostile: HostileRegistry;
  let sshd: Awaited<ReturnType<typeof startLoopbackSshd>>;
  let strict: DockerAgent;
  let image: string;
  let postgresPort: number;
  let closedPort: number;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-local-reg-"));
    postgresPort = Number(new URL(inject("postgresAdminUrl")).port);
    closedPort = await freePort();
    sshd = await startLoopbackSshd(work);
    registry = await startRegistry({ auth: "none" });
    hostile = await startHostileRegistry();
    const simple = await buildSimpleImage(path.join(work, "img"));
    image = `${registry.host}/local/simple:v1`;
    await skopeoCopy(`oci:${simple.layoutDir}:${simple.tag}`, `docker://${image}`);
    // Allowed: the test registry (the flag is how a host with a registry of its own works) and the hostile one.
    strict = await startDockerAgent({ allowLocalRegistries: [...registry.localEndpoints, hostile.host] });
  });

  afterAll(async () => {
    await strict?.destroy();
    await hostile?.stop();
    await registry?.stop();
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a registry allowed with --allow-local-registry works on loopback", async () => {
    const pulled = await strict.docker(["pull", image]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect((await strict.docker(["image", "inspect", "-f", "{{.Id}}", image])).code).toBe(0);
  });

  it("Postgres, sshd and a closed port on loopback are refused with identical errors, before any connection", async () => {
    const sshdBefore = (await sshd.log()).length;
    const results = [];
    for (const port of [postgresPort, sshd.port, closedPort]) {
      const r = await strict.docker(["pull", `127.0.0.1:${port}/x/probe:v1`]);
      expect(r.code).not.toBe(0);
      results.push(shape(r.stderr, port));
    }
    expect(results[0]).toContain("127.0.0.1:PORT is a loopback address");
    expect(results[0]).toContain("--allow-local-registry 127.0.0.1:PORT");
    expect(new Set(results).size).toBe(1);
    // Refused before connecting: sshd never saw the agent.
    expect((await sshd.log()).slice(sshdBefore)).not.toMatch(/Connection from 127\.0\.0\.1/);
    // docker login (POST /auth) goes the same way.
    const login = await strict.docker(["login", "-u", "probe", "--password-stdin", `127.0.0.1:${postgresPort}`], { input: "secret\n" });
    expect(login.code).not.toBe(0);
    expect(login.stderr).toContain(`127.0.0.1:${postgresPort} is a loopback address`);
  });

  it("a name that resolves to loopback is refused too, even for an allowed registry's port", async () => {
    const port = registry.host.split(":")[1]!;
    const r = await strict.docker(["pull", `localhost:${port}/local/simple:v1`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`localhost:${port} resolves to (127\\.0\\.0\\.1|::1), a loopback address`));
    expect(r.stderr).toContain(`--allow-local-registry localhost:${port}`);
  });

  it("an allowed registry can't redirect the agent to another loopback service", async () => {
    hostile.redirect("/v2/redirected/app/manifests/v1", `http://127.0.0.1:${postgresPort}/v2/redirected/app/manifests/v1`);
    const r = await strict.docker(["pull", `${hostile.host}/redirected/app:v1`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`registry ${hostile.host} could not be reached: 127.0.0.1:${postgresPort} is a loopback address`);
  });

  it("allowed, the same services all fail with one message; only the agent's log tells them apart", async () => {
    const lenient = await startDockerAgent({ allowLocalRegistries: [`127.0.0.1:${postgresPort}`, `127.0.0.1:${sshd.port}`, `127.0.0.1:${closedPort}`] });
    try {
      const sshdBefore = (await sshd.log()).length;
      const results = [];
      for (const port of [postgresPort, sshd.port, closedPort]) {
        const r = await lenient.docker(["pull", `127.0.0.1:${port}/x/probe:v1`]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`registry 127.0.0.1:${port} could not be reached`);
        results.push(shape(r.stderr, port));
      }
      expect(new Set(results).size).toBe(1);
      // They were really contacted this time, and the agent kept the difference to itself.
      expect((await sshd.log()).slice(sshdBefore)).toMatch(/Connection from 127\.0\.0\.1/);
      const log = lenient.output();
      expect(log).toContain(`registry 127.0.0.1:${closedPort}: 127.0.0.1:${closedPort}: connection refused`);
      expect(log).toMatch(new RegExp(`registry 127\\.0\\.0\\.1:${sshd.port}: .*Parse Error`));
    } finally {
      await lenient.destroy();
    }
  });
});
