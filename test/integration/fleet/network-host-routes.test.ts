import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { agentSettingsFor, waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";

// A user network must not take a subnet the host already routes or has an
// address in: its bridge would install a second route to those addresses.
// A real agent on an SSH test host (its own network namespace, so the test can
// add routes and interfaces there), driven by the stock docker CLI through the
// gateway's Docker-API proxy and straight on the agent's socket.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const DOCKER = "/usr/local/bin/docker";
/** The agent's pool for user networks: four /24s, only inside the host's own namespace. */
const POOL = "10.123.0.0/22";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe("user networks and the host's own routes", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let host: SshTestHost;
  let hostId: string;
  let work: string;
  let token: string;

  /** The docker CLI, at the gateway's proxy (with the token) or, with `direct`, at the agent's own socket. */
  async function docker(args: string[], direct = false): Promise<Result> {
    const config = await mkdtemp(path.join(work, "docker-config-"));
    await writeFile(path.join(config, "config.json"), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }));
    const dockerHost = direct ? `unix://${host.agent.socket}` : `tcp://127.0.0.1:${new URL(gateway.url).port}/api/docker/${hostId}`;
    return new Promise((resolve) => {
      execFile(
        DOCKER,
        args,
        { timeout: 60_000, killSignal: "SIGKILL", env: { PATH: process.env.PATH ?? "", HOME: work, DOCKER_CONFIG: config, DOCKER_HOST: dockerHost } as unknown as NodeJS.ProcessEnv },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
  }

  const hostRoutes = async () => (await host.run("ip -4 route show table all")).stdout;
  const networkNames = async () => (await docker(["network", "ls", "--format", "{{.Name}}"], true)).stdout.split("\n").filter(Boolean);

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-net-routes-"));
    database = await createTestDatabase("netroutes");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);

    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.trpc<{ fingerprint: string }>("hosts.probe", { address: host.address, port: host.port, username: "root", auth });
    expect(probe.error, JSON.stringify(probe.error)).toBeUndefined();
    const added = await owner.trpc<{ id: string }>("hosts.add", {
      name: "routed-host",
      address: host.address,
      port: host.port,
      username: "root",
      auth,
      fingerprint: probe.data!.fingerprint,
      agent: { ...agentSettingsFor(host), networkPool: POOL },
    });
    expect(added.error, JSON.stringify(added.error)).toBeUndefined();
    hostId = added.data!.id;
    const installed = await owner.trpc("hosts.installAgent", { hostId, installPackages: false });
    expect(installed.error, JSON.stringify(installed.error)).toBeUndefined();
    const ready = await waitFor(
      async () => (await owner.trpc<{ status: string; agent: string }>("hosts.get", { hostId }, "query")).data,
      (h) => h?.status === "connected" && h.agent === "ok",
      60_000,
    );
    expect(ready, gateway.logs()).toMatchObject({ status: "connected", agent: "ok" });
    const created = await owner.trpc<{ secret: string }>("tokens.create", { name: "network cli" });
    expect(created.error, JSON.stringify(created.error)).toBeUndefined();
    token = created.data!.secret;
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("through the gateway's proxy: a subnet holding the host's own link address is refused, and no route is added", async () => {
    // The host's eth0 is a /30 in 10.250.0.0/16; the /24 around it is the "LAN" here.
    const lan = `${host.address.split(".").slice(0, 3).join(".")}.0/24`;
    const before = await hostRoutes();
    const r = await docker(["network", "create", "--subnet", lan, "lan-clash"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Pool overlaps with other one on this address space");
    expect(r.stderr).toMatch(/overlaps the host's (route|address) .*eth0/);
    expect(await hostRoutes()).toBe(before);
    expect(await networkNames()).not.toContain("lan-clash");
  });

  it("on the agent's socket: a subnet the host routes through a gateway is refused; one beside it is accepted", async () => {
    const route = await host.run(`ip route add 10.77.5.0/24 via ${host.gatewayAddress}`);
    expect(route.code, route.stderr).toBe(0);
    const refused = await docker(["network", "create", "--subnet", "10.77.0.0/16", "vpn-clash"], true);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("Pool overlaps with other one on this address space (10.77.0.0/16 overlaps the host's route 10.77.5.0/24");
    expect(await hostRoutes()).not.toContain("10.77.0.0/16");
    expect(await networkNames()).not.toContain("vpn-clash");

    const beside = await docker(["network", "create", "--subnet", "10.77.6.0/24", "beside"], true);
    expect(beside.code, beside.stderr).toBe(0);
    expect((await docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "beside"], true)).stdout.trim()).toBe("10.77.6.0/24");
  });

  it("a network without a subnet skips the pool's /24s the host already uses", async () => {
    // An interface on the pool's first /24 (a veth pair: this kernel has no dummy links), and a route over its second.
    const link = await host.run("ip link add d0 type veth peer name d1 && ip addr add 10.123.0.1/24 dev d0 && ip link set d1 up && ip link set d0 up");
    expect(link.code, link.stderr).toBe(0);
    const route = await host.run(`ip route add 10.123.1.0/24 via ${host.gatewayAddress}`);
    expect(route.code, route.stderr).toBe(0);
    const auto = await docker(["network", "create", "auto"]);
    expect(auto.code, auto.stderr).toBe(0);
    expect((await docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "auto"], true)).stdout.trim()).toBe("10.123.2.0/24");
    // The host's own route to 10.123.1.0/24 is still the only one there.
    const routes = (await hostRoutes()).split("\n").filter((l) => l.startsWith("10.123.1.0/24"));
    expect(routes).toHaveLength(1);
    expect(routes[0]).toContain(`via ${host.gatewayAddress} dev eth0`);
  });
});
