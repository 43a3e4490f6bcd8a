import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// The resolver on a user-defined network's gateway, asked by busybox nslookup
// inside containers (a real stub resolver, reading the resolv.conf the agent
// wrote): names per network only, reverse lookups, a refusal to anyone who
// isn't on the network, and answers again after kill -9 of the agent.

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args);
const run = async (...args: string[]) => {
  const r = await docker("run", "--rm", ...args);
  return r.stdout + r.stderr;
};
/** The addresses in busybox nslookup's answer ("Address: 10.0.0.2"; the server's own line has a tab and :53). */
const answered = (out: string) => [...out.matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]!);
const gatewayOf = async (network: string) => (await docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", network)).stdout.trim();
const addressOf = async (container: string, network: string) => (await docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container)).stdout.trim();

describe("embedded DNS on user-defined networks", () => {
  beforeAll(async () => {
    env = await startCompatEnv({ networkPoolPrefix: 22 });
    for (const n of ["dns-app", "dns-other"]) expect((await docker("network", "create", n)).code).toBe(0);
    expect((await docker("run", "-d", "--name", "dns-api", "--network", "dns-app", "--network-alias", "backend", env.image, "sleep", "600")).code).toBe(0);
    expect((await docker("run", "-d", "--name", "dns-api2", "--network", "dns-app", "--network-alias", "backend", env.image, "sleep", "600")).code).toBe(0);
    expect((await docker("run", "-d", "--name", "dns-lonely", "--network", "dns-other", env.image, "sleep", "600")).code).toBe(0);
  });
  afterAll(async () => {
    await docker("rm", "-f", "dns-api", "dns-api2", "dns-lonely");
    await docker("network", "rm", "dns-app", "dns-other");
    await env?.close();
  });

  it("a container on a user-defined network asks its gateway; the default bridge keeps the host's resolvers", async () => {
    const gw = await gatewayOf("dns-app");
    expect(await run("--network", "dns-app", env.image, "cat", "/etc/resolv.conf")).toMatch(new RegExp(`^nameserver ${gw.replace(/\./g, "\\.")}\n(.*\n)?options ndots:0\n$`));
    expect(await run(env.image, "cat", "/etc/resolv.conf")).not.toContain(`nameserver ${gw}`);
  });

  it("answers names, aliases (every container holding one) and NAME.NETWORK on the asker's networks, and nothing across them", async () => {
    const api = await addressOf("dns-api", "dns-app");
    const api2 = await addressOf("dns-api2", "dns-app");
    expect(answered(await run("--network", "dns-app", env.image, "nslookup", "dns-api"))).toEqual([api]);
    expect(answered(await run("--network", "dns-app", env.image, "nslookup", "DNS-API.dns-app"))).toEqual([api]);
    expect(answered(await run("--network", "dns-app", env.image, "nslookup", "backend")).sort()).toEqual([api, api2].sort());
    const across = await run("--network", "dns-app", env.image, "nslookup", "dns-lonely");
    expect(across).toMatch(/can't find dns-lonely/);
    expect(answered(across)).toEqual([]);
    // A reverse lookup names the container on that network.
    expect(await run("--network", "dns-app", env.image, "nslookup", api)).toContain("name = dns-api.dns-app");
  });

  it("refuses a container that isn't on the network, even one that can reach the gateway", async () => {
    const gw = await gatewayOf("dns-app");
    const out = await run("--network", "dns-other", env.image, "nslookup", "dns-api", gw);
    expect(out).toMatch(/REFUSED/);
    expect(answered(out)).toEqual([]);
  });

  it("answers again once the agent is back after kill -9, for the containers that kept running", async () => {
    await env.agent.kill();
    await env.agent.restart();
    const api = await addressOf("dns-api", "dns-app");
    const asked = await docker("exec", "dns-api2", "nslookup", "dns-api");
    expect(answered(asked.stdout)).toEqual([api]);
  });
});
