// The SSH test-host fixture, checked with independent tools: the stock OpenSSH
// client, ssh-keyscan and ssh-keygen, and ssh2 where the CLI cannot go in batch
// mode (passwords, encrypted keys, unix-socket forwarding).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Client, type ConnectConfig } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { buildToolsImage } from "../../fixtures/test-images";
import { agentFlags, startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const AGENT_BUNDLE = path.resolve("dist/berth-agent.mjs");

function sh(commandLine: string, timeoutMs = 30_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile("sh", ["-c", commandLine], { timeout: timeoutMs, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let fleet: SshHostFleet;
/** Container processes started on the hosts; cleanup must end them. */
const containerPids: number[] = [];
let keyDir: string;
let clientKeyFile: string;
let passphraseKeyFile: string;

/** The real ssh client, non-interactive, as root with the fleet's client key. */
function ssh(host: SshTestHost, remoteCommand: string, extra: string[] = []): Promise<Result> {
  const opts = ["-o StrictHostKeyChecking=no", "-o UserKnownHostsFile=/dev/null", "-o BatchMode=yes", "-o ConnectTimeout=5", "-o LogLevel=ERROR"];
  return sh(`ssh ${opts.join(" ")} ${extra.join(" ")} -i ${quote(clientKeyFile)} -p ${host.port} ${host.user}@${host.address} ${quote(remoteCommand)}`);
}

/** Logs in with ssh2 and runs one command. */
function ssh2Exec(config: ConnectConfig, command: string): Promise<string> {
  return withSsh2(config, (client) =>
    new Promise((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = "";
        stream.on("data", (d: Buffer) => (out += d.toString()));
        stream.stderr.resume();
        stream.on("close", () => resolve(out));
      });
    }),
  );
}

async function withSsh2<T>(config: ConnectConfig, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", reject);
    client.connect({ readyTimeout: 10_000, ...config });
  });
  try {
    return await use(client);
  } finally {
    client.end();
  }
}

/** Sends text through a direct-streamlocal channel (what a gateway uses to reach the agent socket). */
function throughUnixForward(client: Client, socketPath: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
      if (err) return reject(err);
      let out = "";
      stream.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.length >= text.length) stream.end();
      });
      stream.on("close", () => resolve(out));
      stream.write(text);
    });
  });
}

function docker(h: SshTestHost, args: string): Promise<Result> {
  return sh(`DOCKER_HOST=unix://${h.agent.socket} DOCKER_CONFIG=${quote(path.join(keyDir, "docker"))} docker ${args}`, 120_000);
}

/** Polls the agent's /_ping until it answers (it takes a moment to start); returns the last answer. */
async function agentPing(h: SshTestHost): Promise<string> {
  let ping = "";
  for (let i = 0; i < 100 && ping !== "OK"; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    ping = (await sh(`curl -s --max-time 2 --unix-socket ${quote(h.agent.socket)} http://agent/_ping`)).stdout;
  }
  return ping;
}

async function keyscanFingerprint(host: SshTestHost): Promise<string> {
  const r = await sh(`ssh-keyscan -T 5 -t ed25519 -p ${host.port} ${host.address} 2>/dev/null | ssh-keygen -lf -`);
  expect(r.code).toBe(0);
  return r.stdout.trim().split(/\s+/)[1]!;
}

beforeAll(async () => {
  fleet = await startSshHosts(2);
  keyDir = await mkdtemp(path.join(os.tmpdir(), "berth-ssh-keys-"));
  clientKeyFile = path.join(keyDir, "client");
  passphraseKeyFile = path.join(keyDir, "locked");
  await writeFile(clientKeyFile, fleet.clientKey.privateKey);
  await writeFile(passphraseKeyFile, fleet.passphraseKey.privateKey);
  // ssh and ssh-keygen refuse private keys others can read.
  await chmod(clientKeyFile, 0o600);
  await chmod(passphraseKeyFile, 0o600);
});

afterAll(async () => {
  await fleet?.cleanup();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

describe("startSshHosts", () => {
  it("gives each host its own namespace, link, address, user and agent settings", async () => {
    const [a, b] = fleet.hosts as [SshTestHost, SshTestHost];
    expect(fleet.hosts).toHaveLength(2);
    for (const key of ["name", "netns", "address", "gatewayAddress"] as const) expect(a[key]).not.toBe(b[key]);
    expect(a.password.user).not.toBe(b.password.user);
    for (const key of Object.keys(a.agent) as (keyof SshTestHost["agent"])[]) expect(a.agent[key]).not.toBe(b.agent[key]);

    const namespaces = (await sh("ip netns list")).stdout;
    for (const h of fleet.hosts) {
      expect(namespaces).toContain(h.netns);
      expect(h.address).toMatch(/^10\.250\.\d+\.\d+$/);
      expect(h.port).toBe(22);
      expect(h.user).toBe("root");
      expect(h.privateKey).toBe(fleet.clientKey.privateKey);
      expect(h.agent.bridge.length).toBeLessThanOrEqual(15);
      // The install dir is there and empty; the agent makes its own root and socket.
      expect((await sh(`ls -A ${quote(h.agent.installDir)}`)).stdout).toBe("");
      expect(existsSync(h.agent.root)).toBe(false);
    }
  });

  it("lets root in with the client key, inside the host's namespace, with the agent's tools on PATH", async () => {
    for (const h of fleet.hosts) {
      const addr = await ssh(h, "ip -4 addr");
      expect(addr.code, addr.stderr).toBe(0);
      expect(addr.stdout).toContain(`inet ${h.address}/30`);
      expect(addr.stdout).not.toContain(fleet.hosts.find((o) => o !== h)!.address);

      const tools = await ssh(h, "command -v node ip nft runc conmon");
      expect(tools.code, tools.stderr).toBe(0);
      expect(tools.stdout.trim().split("\n")).toHaveLength(5);
      expect((await ssh(h, "id -u")).stdout.trim()).toBe("0");
    }
  });

  it("runs commands inside the host's namespace", async () => {
    const h = fleet.hosts[0]!;
    const r = await h.run("ip -4 -o addr show; echo err >&2; exit 3");
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`inet ${h.address}/30`);
    expect(r.stderr).toBe("err\n");
  });

  it("authorizes a passphrase-protected key that only its passphrase unlocks", async () => {
    const pub = fleet.clientKey.publicKey.trim().split(" ").slice(0, 2).join(" ");
    const derived = await sh(`ssh-keygen -y -P ${quote(fleet.passphraseKey.passphrase)} -f ${quote(passphraseKeyFile)}`);
    expect(derived.code, derived.stderr).toBe(0);
    expect(derived.stdout).toMatch(/^ssh-ed25519 /);
    expect(derived.stdout.trim().split(" ").slice(0, 2).join(" ")).not.toBe(pub);
    expect((await sh(`ssh-keygen -y -P '' -f ${quote(passphraseKeyFile)}`)).code).not.toBe(0);
    expect((await sh(`ssh-keygen -y -P wrong -f ${quote(passphraseKeyFile)}`)).code).not.toBe(0);

    for (const h of fleet.hosts) {
      const config = { host: h.address, port: h.port, username: "root", privateKey: fleet.passphraseKey.privateKey, passphrase: fleet.passphraseKey.passphrase };
      expect((await ssh2Exec(config, "id -un")).trim()).toBe("root");
    }
  });

  it("has a non-root password user who logs in with the password only", async () => {
    const h = fleet.hosts[0]!;
    const entry = await sh(`getent passwd ${h.password.user}`);
    expect(entry.code).toBe(0);
    expect(entry.stdout.split(":")[2]).not.toBe("0");

    const login = { host: h.address, port: h.port, username: h.password.user };
    expect((await ssh2Exec({ ...login, password: h.password.password }, "id -un")).trim()).toBe(h.password.user);
    await expect(ssh2Exec({ ...login, password: "not-the-password" }, "true")).rejects.toThrow(/authentication/i);
    // Root may not use a password, whatever it is.
    await expect(ssh2Exec({ ...login, username: "root", password: h.password.password }, "true")).rejects.toThrow(/authentication/i);
  });

  it("reports the fingerprint ssh-keyscan sees", async () => {
    for (const h of fleet.hosts) {
      const fp = await h.fingerprint();
      expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(await keyscanFingerprint(h)).toBe(fp);
    }
    expect(await fleet.hosts[0]!.fingerprint()).not.toBe(await fleet.hosts[1]!.fingerprint());
  });

  it("forwards to unix sockets (how a gateway reaches the agent socket)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "berth-echo-"));
    const socketPath = path.join(dir, "echo.sock");
    // Hosts share the filesystem, so a socket bound here is reachable from inside any of them.
    const echo = net.createServer((c) => c.pipe(c));
    await new Promise<void>((resolve) => echo.listen(socketPath, resolve));
    try {
      const h = fleet.hosts[0]!;
      const config = { host: h.address, port: h.port, username: "root", privateKey: fleet.clientKey.privateKey };
      expect(await withSsh2(config, (c) => throughUnixForward(c, socketPath, "ping"))).toBe("ping");

      const closed = await startSshHosts(1, { allowStreamLocalForwarding: false });
      try {
        const other = closed.hosts[0]!;
        const closedConfig = { ...config, host: other.address, privateKey: closed.clientKey.privateKey };
        await expect(withSsh2(closedConfig, (c) => throughUnixForward(c, socketPath, "ping"))).rejects.toThrow(/prohibited|open failed|administratively/i);
        expect((await ssh2Exec(closedConfig, "echo still-a-shell")).trim()).toBe("still-a-shell");
      } finally {
        await closed.cleanup();
      }
    } finally {
      echo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reaches services bound on its gateway address", async () => {
    const h = fleet.hosts[0]!;
    const registry = await startRegistry({ listenHost: h.gatewayAddress });
    try {
      expect(registry.host).toMatch(new RegExp(`^${h.gatewayAddress.replace(/\./g, "\\.")}:\\d+$`));
      const r = await h.run(`curl -s -o /dev/null -w '%{http_code}' --max-time 10 ${registry.url}/v2/`);
      expect(r.stdout).toBe("200");
    } finally {
      await registry.stop();
    }
  });

  it("cuts and restores the link without killing sshd", async () => {
    const [a, b] = fleet.hosts as [SshTestHost, SshTestHost];
    await a.cutLink();
    try {
      expect((await ssh(a, "true")).code).toBe(255);
      expect(await tcpConnects(a)).toBe(false);
      expect((await ssh(b, "true")).code).toBe(0);
      // sshd still runs behind the cut link.
      expect((await sh(`ip netns pids ${a.netns}`)).stdout.trim()).not.toBe("");
    } finally {
      await a.restoreLink();
    }
    const back = await ssh(a, "echo back");
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout.trim()).toBe("back");
  });

  it("stops and starts sshd, idempotently", async () => {
    const h = fleet.hosts[1]!;
    const before = await h.fingerprint();
    await h.stopSshd();
    await h.stopSshd();
    const refused = await ssh(h, "true");
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/refused/i);
    await h.startSshd();
    await h.startSshd();
    expect((await ssh(h, "echo up")).stdout.trim()).toBe("up");
    expect(await h.fingerprint()).toBe(before);
  });

  it("regenerates the host key", async () => {
    const h = fleet.hosts[1]!;
    const before = await h.fingerprint();
    const after = await h.regenerateHostKey();
    expect(after).not.toBe(before);
    expect(await h.fingerprint()).toBe(after);
    expect(await keyscanFingerprint(h)).toBe(after);
    expect((await ssh(h, "true")).code).toBe(0);
  });

  it("runs a Berth agent over SSH that pulls from the gateway and runs a container", async () => {
    expect(existsSync(AGENT_BUNDLE), `${AGENT_BUNDLE} is missing: run npm run build:agent`).toBe(true);
    const h = fleet.hosts[0]!;
    const registry = await startRegistry({ listenHost: h.gatewayAddress });
    try {
      const built = await buildToolsImage(path.join(keyDir, "images"));
      const image = `${registry.host}/test/tools:latest`;
      await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${image}`);

      const bundle = path.join(h.agent.installDir, "berth-agent.mjs");
      await writeFile(bundle, readFileSync(AGENT_BUNDLE));
      const serve = ["node", bundle, "serve", ...agentFlags(h.agent), "--socket", h.agent.socket, "--insecure-registry", registry.host];
      const started = await ssh(h, `nohup ${serve.map(quote).join(" ")} >/dev/null 2>&1 </dev/null &`);
      expect(started.code, started.stderr).toBe(0);
      expect(await agentPing(h)).toBe("OK");

      // Hosts share the filesystem: the docker CLI here reaches the agent's socket directly.
      const pulled = await docker(h, `pull ${image}`);
      expect(pulled.code, pulled.stderr).toBe(0);
      const run = await docker(h, `run -d --name sleeper ${image} sleep 600`);
      expect(run.code, run.stderr).toBe(0);
      const pid = Number((await docker(h, "inspect -f '{{.State.Pid}}' sleeper")).stdout.trim());
      expect(pid).toBeGreaterThan(0);
      containerPids.push(pid);
    } finally {
      await registry.stop();
    }
    // The last test checks that cleanup stops the agent, removes the container and its mounts and cgroups.
  });

  it("cleans up everything it created", async () => {
    const hosts = fleet.hosts;
    const users = hosts.map((h) => h.password.user);
    const dirs = hosts.map((h) => path.dirname(h.agent.root));
    await fleet.cleanup();
    await fleet.cleanup();

    const namespaces = (await sh("ip netns list")).stdout;
    // Every name a host uses (netns bh<tag>, link vh<tag>, ...) carries its tag.
    const links = (await sh("ip -o link")).stdout;
    const mounts = readFileSync("/proc/self/mounts", "utf8");
    for (const h of hosts) {
      expect(namespaces).not.toContain(h.netns);
      expect(links).not.toContain(h.netns.slice(2));
      expect((await sh(`ip -4 -o addr | grep -F ' ${h.gatewayAddress}/'`)).stdout).toBe("");
      expect((await sh(`ip -4 route | grep -F '${linkNetwork(h)}'`)).stdout).toBe("");
      expect(await sh(`ls -d /sys/fs/cgroup/*/${h.agent.cgroupParent} /sys/fs/cgroup/${h.agent.cgroupParent} 2>/dev/null`)).toMatchObject({ stdout: "" });
    }
    for (const u of users) {
      expect((await sh(`getent passwd ${u}`)).code).not.toBe(0);
      expect((await sh(`getent group ${u}`)).code).not.toBe(0);
    }
    for (const d of dirs) {
      expect(existsSync(d)).toBe(false);
      expect(mounts).not.toContain(d);
    }
    expect(containerPids).toHaveLength(1);
    for (const pid of containerPids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

/** Whether a TCP connection to the host's sshd is accepted (by anything). */
function tcpConnects(h: SshTestHost): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: h.address, port: h.port, timeout: 5_000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once("connect", () => done(true));
    s.once("timeout", () => done(false));
    s.once("error", () => done(false));
  });
}

/** The host's /30: the gateway is its first address. */
function linkNetwork(h: SshTestHost): string {
  const octets = h.gatewayAddress.split(".").map(Number);
  octets[3]! -= 1;
  return `${octets.join(".")}/30`;
}
