import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";
import { httpGet, httpServe } from "../fixtures/container-http";

// docker network connect/disconnect as docker-compose uses them: on created
// and running containers, with aliases and addresses, one container on
// several user networks, disconnect-then-connect, and names that resolve only
// where two containers share a network. All traffic stays on the agent's own
// bridges.

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });

interface EndpointView {
  IPAddress: string;
  Aliases: string[] | null;
  DNSNames: string[] | null;
  IPAMConfig: { IPv4Address?: string } | null;
}
const endpoints = async (name: string) => JSON.parse((await docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", name)).stdout) as Record<string, EndpointView>;
/** The body a GET from a throwaway container on `network` gets, or its error. */
const fetchFrom = async (network: string, host: string) => {
  const r = await docker("run", "--rm", "--network", network, env.image, ...httpGet(host, { timeout: 2 }));
  return r.stdout.trim() || r.stderr.trim();
};

beforeAll(async () => {
  env = await startCompatEnv({ networkPoolPrefix: 22 });
  for (const n of ["front", "back"]) expect((await docker("network", "create", n)).code).toBe(0);
});
afterAll(async () => {
  await env?.close();
});

describe("connect and disconnect", () => {
  it("a created container: connect records the network (again: no change), disconnect forgets it", async () => {
    expect((await docker("create", "--name", "multi", "--network", "front", "--network-alias", "face", env.image, ...httpServe("multi here"))).code).toBe(0);
    const id = (await docker("inspect", "-f", "{{.Id}}", "multi")).stdout.trim();
    const short = id.slice(0, 12);
    // docker-compose reads these before it decides what to connect.
    expect(Object.keys(await endpoints("multi"))).toEqual(["front"]);
    expect((await endpoints("multi")).front!.Aliases).toEqual(["face", short]);

    expect((await docker("network", "connect", "--alias", "store", "back", "multi")).code).toBe(0);
    let eps = await endpoints("multi");
    expect(Object.keys(eps).sort()).toEqual(["back", "front"]);
    expect(eps.back!.Aliases).toEqual(["store", short]);
    expect(eps.back!.DNSNames).toEqual(["multi", "store", short]);
    expect(eps.back!.IPAddress).toBe("");
    // Not running: a second connect is accepted and changes nothing (dockerd keeps the first settings).
    expect((await docker("network", "connect", "--alias", "other", "back", "multi")).code).toBe(0);
    expect((await endpoints("multi")).back!.Aliases).toEqual(["store", short]);

    // Disconnect then connect again, as docker-compose does to set a service's aliases.
    expect((await docker("network", "disconnect", "back", "multi")).code).toBe(0);
    expect(Object.keys(await endpoints("multi"))).toEqual(["front"]);
    const again = await docker("network", "disconnect", "back", "multi");
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`container ${id} is not connected to the network back`);
    expect((await docker("network", "connect", "--alias", "store", "back", "multi")).code).toBe(0);
    expect(Object.keys(await endpoints("multi")).sort()).toEqual(["back", "front"]);
  });

  it("started, it is on both networks: each peer reaches it by the aliases of their shared network only", async () => {
    expect((await docker("start", "multi")).code).toBe(0);
    await docker("run", "-d", "--name", "front-peer", "--network", "front", env.image, ...httpServe("front peer"));
    await docker("run", "-d", "--name", "back-peer", "--network", "back", "--network-alias", "db", env.image, ...httpServe("back peer"));

    const eps = await endpoints("multi");
    expect(eps.front!.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(eps.back!.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const inside = await docker("exec", "multi", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '");
    expect(inside.stdout.trim()).toBe("eth0 eth1 lo");

    // By name and by each network's alias, from that network.
    expect((await eventually(() => fetchFrom("front", "face"), (b) => b === "multi here", 30))).toBe("multi here");
    expect(await fetchFrom("front", "multi")).toBe("multi here");
    expect(await fetchFrom("back", "store")).toBe("multi here");
    expect(await fetchFrom("back", "multi")).toBe("multi here");
    // An alias belongs to its network: "store" means nothing on front, "face" nothing on back.
    expect(await fetchFrom("front", "store")).toMatch(/bad address/);
    expect(await fetchFrom("back", "face")).toMatch(/bad address/);

    // multi sees both peers (by name, alias and ping); the peers, on no network together, don't see each other.
    expect((await docker("exec", "multi", ...httpGet("front-peer"))).stdout.trim()).toBe("front peer");
    expect((await docker("exec", "multi", ...httpGet("db"))).stdout.trim()).toBe("back peer");
    expect((await docker("exec", "multi", "ping", "-c", "1", "-W", "2", "back-peer")).code).toBe(0);
    const unshared = await docker("exec", "front-peer", "ping", "-c", "1", "-W", "1", "back-peer");
    expect(unshared.code).not.toBe(0);
    expect(unshared.stderr + unshared.stdout).toMatch(/bad address/);
    const backIp = (await endpoints("back-peer")).back!.IPAddress;
    expect((await docker("exec", "front-peer", ...httpGet(backIp, { timeout: 2 }))).stdout.trim()).toBe("");

    const inspected = JSON.parse((await docker("network", "inspect", "back")).stdout) as { Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    const members = Object.values(inspected[0]!.Containers).map((c) => c.Name).sort();
    expect(members).toEqual(["back-peer", "multi"]);
  });

  it("running: connecting twice is refused; disconnect-then-connect leaves no stale endpoint and keeps a default route", async () => {
    const twice = await docker("network", "connect", "back", "multi");
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain("endpoint with name multi already exists in network back");

    // front is eth0 and carries the default route; take it away and bring it back with another alias.
    expect((await docker("network", "disconnect", "front", "multi")).code).toBe(0);
    expect(await fetchFrom("front", "face")).toMatch(/bad address/);
    const notConnected = await docker("network", "disconnect", "front", "multi");
    expect(notConnected.code).not.toBe(0);
    expect(notConnected.stderr).toMatch(/is not connected to network front/);
    const routeMeanwhile = await docker("exec", "multi", "ip", "route", "show", "default");
    expect(routeMeanwhile.stdout).toMatch(/^default via \S+ dev eth1/);

    expect((await docker("network", "connect", "--alias", "face2", "front", "multi")).code).toBe(0);
    const inside = await docker("exec", "multi", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '; echo; ip -o -4 addr show | wc -l");
    expect(inside.stdout.trim().split("\n").map((l) => l.trim())).toEqual(["eth0 eth1 lo", "3"]);
    expect(await fetchFrom("front", "face2")).toBe("multi here");
    expect(await fetchFrom("front", "face")).toMatch(/bad address/);
    expect((await docker("exec", "multi", "ip", "route", "show", "default")).stdout).toMatch(/^default via /);
    const eps = await endpoints("multi");
    expect(eps.front!.Aliases).toContain("face2");
    expect(eps.front!.Aliases).not.toContain("face");
    // The peers' /etc/hosts follow: front-peer finds multi at its new address.
    expect((await docker("exec", "front-peer", "grep", "-c", "multi", "/etc/hosts")).stdout.trim()).toBe("1");
    expect((await docker("exec", "front-peer", ...httpGet("multi"))).stdout.trim()).toBe("multi here");
  });

  it("an address of its own (--ip) on a network with a given subnet; refused elsewhere or when taken", async () => {
    // A subnet of the agent's pool the host doesn't use: take the one a plain create picks, then ask for it.
    await docker("network", "create", "probe");
    const subnet = (await docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "probe")).stdout.trim();
    await docker("network", "rm", "probe");
    expect((await docker("network", "create", "--subnet", subnet, "fixed")).code).toBe(0);
    const ip = subnet.replace(/\.0\/24$/, ".50");

    expect((await docker("network", "connect", "--ip", ip, "fixed", "multi")).code).toBe(0);
    const eps = await endpoints("multi");
    expect(eps.fixed).toMatchObject({ IPAddress: ip, IPAMConfig: { IPv4Address: ip } });
    expect((await docker("run", "--rm", "--network", "fixed", env.image, ...httpGet(ip))).stdout.trim()).toBe("multi here");

    const taken = await docker("run", "--rm", "--network", "fixed", "--ip", ip, env.image, "true");
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain("Address already in use");
    const outside = await docker("create", "--network", "fixed", "--ip", "192.0.2.9", env.image, "true");
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain("no configured subnet or ip-range contain the IP address 192.0.2.9");
    const noSubnet = await docker("network", "connect", "--ip", "10.255.255.9", "back", "front-peer");
    expect(noSubnet.code).not.toBe(0);
    expect(noSubnet.stderr).toContain("user specified IP address is supported only when connecting to networks with user configured subnets");
    const onBridge = await docker("network", "connect", "--alias", "x", "bridge", "front-peer");
    expect(onBridge.code).not.toBe(0);
    expect(onBridge.stderr).toContain("network-scoped alias is supported only for containers in user defined networks");
    // Nothing of the refused requests stayed: front-peer is still on front alone.
    expect(Object.keys(await endpoints("front-peer"))).toEqual(["front"]);
  });

  it("a stopped container forgets its addresses but keeps its networks, and gets them back at start", async () => {
    expect((await docker("stop", "-t", "1", "multi")).code).toBe(0);
    const stopped = await endpoints("multi");
    expect(Object.keys(stopped).sort()).toEqual(["back", "fixed", "front"]);
    expect(stopped.back!.IPAddress).toBe("");
    expect((await docker("start", "multi")).code).toBe(0);
    const started = await endpoints("multi");
    expect(started.fixed!.IPAddress).toBe(stopped.fixed!.IPAMConfig!.IPv4Address);
    expect((await eventually(() => fetchFrom("back", "store"), (b) => b === "multi here", 30))).toBe("multi here");
    await docker("rm", "-f", "multi", "front-peer", "back-peer");
    expect((await docker("network", "rm", "front", "back", "fixed")).code).toBe(0);
  });
});
