import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";

// Networks, published ports and volumes through the stock docker CLI. All
// traffic stays on loopback, the agent's own bridges, and a network
// namespace this test creates.

let env: CompatEnv;
let work: string;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const curl = (url: string, netns?: string) => {
  const args = ["-s", "--max-time", "5", url];
  try {
    return execFileSync(netns ? "ip" : "curl", netns ? ["netns", "exec", netns, "curl", ...args] : args, { encoding: "utf8" });
  } catch {
    return null;
  }
};
/**
 * An HTTP GET from inside a container, by name or address. Debian's busybox-static `wget` segfaults
 * (even on the host: a bug of that build), so the request goes through busybox `nc`, which resolves
 * names through /etc/hosts like any libc client. Prints the body's last line.
 */
const GET = (host: string, timeout = 3) => ["sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w ${timeout} ${host} 80 | tail -1`];
const HTTPD = (text: string) => ["sh", "-c", `mkdir -p /www && echo '${text}' > /www/index.html && exec httpd -f -p 80 -h /www`];
const table = () => `berth_${env.agent.bridge}`;
const nftTable = () => execFileSync("nft", ["list", "table", "ip", table()], { encoding: "utf8" });

beforeAll(async () => {
  env = await startCompatEnv();
  work = await mkdtemp(path.join(os.tmpdir(), "berth-net-"));
});
afterAll(async () => {
  await env?.close();
  await rm(work, { recursive: true, force: true });
});

describe("published ports", () => {
  const ns = `btns${randomBytes(3).toString("hex")}`;
  const hostVeth = `vh${ns.slice(4)}`;
  afterAll(() => {
    execFileSync("sh", ["-c", `ip netns del ${ns} 2>/dev/null; ip link del ${hostVeth} 2>/dev/null; true`]);
  });

  it("-p 127.0.0.1:18080:80 serves busybox httpd to the host and to another network namespace", async () => {
    const r = await docker("run", "-d", "--name", "web", "-p", "127.0.0.1:18080:80", "-p", "18081:80", env.image, ...HTTPD("hello from httpd"));
    expect(r.code).toBe(0);
    const page = await eventually(async () => curl("http://127.0.0.1:18080/"), (x) => x !== null);
    expect(page).toBe("hello from httpd\n");

    // A second "host": its own network namespace, reaching this host over a veth.
    execFileSync("sh", ["-c", [
      `ip netns add ${ns}`,
      `ip link add ${hostVeth} type veth peer name eth0 netns ${ns}`,
      `ip addr add 10.199.77.1/30 dev ${hostVeth}`,
      `ip link set ${hostVeth} up`,
      `ip -n ${ns} addr add 10.199.77.2/30 dev eth0`,
      `ip -n ${ns} link set eth0 up`,
      `ip -n ${ns} link set lo up`,
    ].join(" && ")]);
    expect(curl("http://10.199.77.1:18081/", ns)).toBe("hello from httpd\n");
    // Bound to 127.0.0.1 only: not reachable on the host's other addresses.
    expect(curl("http://10.199.77.1:18080/", ns)).toBeNull();

    const port = await docker("port", "web");
    expect(port.stdout).toContain("80/tcp -> 127.0.0.1:18080");
    expect(port.stdout).toContain("80/tcp -> 0.0.0.0:18081");
  });

  it("loopback clients reach a container from their own address, the host's direct connections from the gateway", async () => {
    // A CGI script prints the peer address busybox httpd saw.
    const script = "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/peer && chmod +x /www/cgi-bin/peer && exec httpd -f -p 80 -h /www";
    const r = await docker("run", "-d", "--name", "peer", "-p", "127.0.0.1:18090:80", env.image, "sh", "-c", script);
    expect(r.code).toBe(0);
    const viaLoopback = await eventually(async () => curl("http://127.0.0.1:18090/cgi-bin/peer"), (x) => x !== null);
    // Sharing the gateway's connection tuples with direct clients stalled both (see LOOPBACK_CLIENT_SOURCE).
    expect(viaLoopback).toMatch(/^\[?(::ffff:)?192\.0\.0\.8\]?\n$/);
    const ip = (await docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "peer")).stdout.trim();
    const gw = (await docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge")).stdout.trim();
    expect(curl(`http://${ip}/cgi-bin/peer`)).toBe(`[::ffff:${gw}]\n`);
    await docker("rm", "-f", "peer");
  });

  it("a random host port shows up in docker port and docker ps", async () => {
    const r = await docker("run", "-d", "--name", "random", "-p", "80", env.image, ...HTTPD("random port"));
    expect(r.code).toBe(0);
    const port = (await docker("port", "random", "80/tcp")).stdout.trim();
    const m = /^0\.0\.0\.0:(\d+)$/m.exec(port);
    expect(m).not.toBeNull();
    const hostPort = Number(m![1]);
    expect(hostPort).toBeGreaterThan(1024);
    const ps = await docker("ps", "--filter", "name=random", "--format", "{{.Ports}}");
    expect(ps.stdout).toContain(`0.0.0.0:${hostPort}->80/tcp`);
    expect(await eventually(async () => curl(`http://127.0.0.1:${hostPort}/`), (x) => x !== null)).toBe("random port\n");
    await docker("rm", "-f", "random");
    // Its rule went with it.
    expect(nftTable()).not.toContain(`dport ${hostPort} `);
  });

  it("port ranges: pairs of host and container ports, and -P for every exposed port", async () => {
    const r = await docker("run", "-d", "--name", "ranged", "-p", "127.0.0.1:18100-18101:7000-7001", "--expose", "7100-7101", "-P", env.image, "sleep", "30");
    expect(r.code).toBe(0);
    const port = (await docker("port", "ranged")).stdout;
    expect(port).toContain("7000/tcp -> 127.0.0.1:18100");
    expect(port).toContain("7001/tcp -> 127.0.0.1:18101");
    expect(port).toMatch(/7100\/tcp -> 0\.0\.0\.0:\d+/);
    expect(port).toMatch(/7101\/tcp -> 0\.0\.0\.0:\d+/);
    expect(nftTable()).toMatch(/ip daddr 127\.0\.0\.1 tcp dport 18101 dnat to [\d.]+:7001/);
    await docker("rm", "-f", "ranged");
  });

  it("a port that is taken fails the start clearly and leaves nothing behind", async () => {
    const rulesBefore = nftTable();
    const r = await docker("run", "-d", "--name", "clash", "-p", "127.0.0.1:18080:80", env.image, "sleep", "30");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("port is already allocated");
    expect((await docker("inspect", "-f", "{{.State.Status}}", "clash")).stdout.trim()).toBe("created");
    expect(nftTable()).toBe(rulesBefore);
    await docker("rm", "clash");
  });

  it("keeps serving while the agent is dead, and a restarted agent adds no duplicates", async () => {
    await env.agent.kill();
    expect(curl("http://127.0.0.1:18080/")).toBe("hello from httpd\n");
    await env.agent.restart();
    expect(curl("http://127.0.0.1:18080/")).toBe("hello from httpd\n");
    const rules = nftTable();
    expect(rules.match(/dport 18080 dnat/g)).toHaveLength(1);
    expect(rules.match(/dport 18081 dnat/g)).toHaveLength(1);
    const addrs = execFileSync("ip", ["-4", "-o", "addr", "show", "dev", env.agent.bridge], { encoding: "utf8" }).trim().split("\n");
    expect(addrs).toHaveLength(1);
    expect(execFileSync("nft", ["list", "tables"], { encoding: "utf8" }).match(new RegExp(`table ip ${table()}\\b`, "g"))).toHaveLength(1);
    await docker("rm", "-f", "web");
  });
});

describe("networks", () => {
  it("containers on a user network reach each other by name and alias; other networks can't", async () => {
    expect((await docker("network", "create", "appnet")).code).toBe(0);
    expect((await docker("network", "create", "--subnet", "10.198.10.0/24", "othernet")).code).toBe(0);
    const ls = await docker("network", "ls", "--format", "{{.Name}} {{.Driver}}");
    expect(ls.stdout).toContain("appnet bridge");
    expect(ls.stdout).toContain("bridge bridge");
    expect(ls.stdout).toContain("host host");
    expect(ls.stdout).toContain("none null");

    await docker("run", "-d", "--name", "api", "--network", "appnet", "--network-alias", "backend", env.image, ...HTTPD("api says hi"));
    const byName = await eventually(() => docker("run", "--rm", "--network", "appnet", env.image, ...GET("api")), (r) => r.stdout === "api says hi\n", 50);
    expect(byName.stdout).toBe("api says hi\n");
    expect((await docker("run", "--rm", "--network", "appnet", env.image, ...GET("backend"))).stdout).toBe("api says hi\n");

    const apiIp = (await docker("inspect", "-f", "{{.NetworkSettings.Networks.appnet.IPAddress}}", "api")).stdout.trim();
    expect(apiIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const byNameOther = await docker("run", "--rm", "--network", "othernet", env.image, ...GET("api", 2));
    expect(byNameOther.stdout).not.toContain("api says hi");
    expect(byNameOther.stderr).toMatch(/bad address/i);
    const byIpOther = await docker("run", "--rm", "--network", "othernet", env.image, ...GET(apiIp, 2));
    expect(byIpOther.stdout).not.toContain("api says hi");

    const inspect = JSON.parse((await docker("network", "inspect", "othernet")).stdout) as { IPAM: { Config: { Subnet: string; Gateway: string }[] } }[];
    expect(inspect[0]!.IPAM.Config[0]).toEqual({ Subnet: "10.198.10.0/24", Gateway: "10.198.10.1" });

    // connect: a running container joins another network and is reachable there by name.
    await docker("run", "-d", "--name", "joiner", "--network", "othernet", env.image, ...HTTPD("joiner here"));
    expect((await docker("network", "connect", "appnet", "joiner")).code).toBe(0);
    const joined = await eventually(() => docker("run", "--rm", "--network", "appnet", env.image, ...GET("joiner")), (r) => r.stdout === "joiner here\n", 30);
    expect(joined.stdout).toBe("joiner here\n");
    expect((await docker("network", "disconnect", "appnet", "joiner")).code).toBe(0);
    expect((await docker("run", "--rm", "--network", "appnet", env.image, ...GET("joiner", 2))).stdout).not.toContain("joiner here");

    const inUse = await docker("network", "rm", "appnet");
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toContain("has active endpoints");
    await docker("rm", "-f", "api", "joiner");
    expect((await docker("network", "rm", "appnet", "othernet")).code).toBe(0);
    expect((await docker("network", "ls", "--format", "{{.Name}}")).stdout).not.toContain("appnet");
  });

  it("--link, --network none and --network host", async () => {
    await docker("run", "-d", "--name", "db", env.image, ...HTTPD("db page"));
    const linked = await eventually(() => docker("run", "--rm", "--link", "db:database", env.image, ...GET("database")), (r) => r.stdout === "db page\n", 30);
    expect(linked.stdout).toBe("db page\n");
    // --add-host entries survive the start (the hosts file is rewritten with the container's address then).
    const added = await docker("run", "--rm", "--add-host", "db.example:10.1.2.3", "--link", "db:database", env.image, "cat", "/etc/hosts");
    expect(added.stdout).toMatch(/^10\.1\.2\.3\tdb\.example$/m);
    expect(added.stdout).toMatch(/\tdatabase db /);
    const none = await docker("run", "--rm", "--network", "none", "--add-host", "db.example:10.1.2.3", env.image, "sh", "-c", "ls /sys/class/net; grep db.example /etc/hosts");
    expect(none.stdout.trim().split(/\s+/)).toEqual(["lo", "10.1.2.3", "db.example"]);
    const host = await docker("run", "--rm", "--network", "host", env.image, "ls", "/sys/class/net");
    expect(host.stdout).toContain(env.agent.bridge);
    await docker("rm", "-f", "db");
  });

  it("outbound traffic is NATed through the host", async () => {
    // The bridge gateway is the host: a container reaches a host address outside its subnet.
    const gw = (await docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge")).stdout.trim();
    const r = await docker("run", "--rm", env.image, "sh", "-c", `ip route | head -1; ping -c 1 -W 2 ${gw} >/dev/null && echo reachable`);
    expect(r.stdout).toContain(`default via ${gw}`);
    expect(r.stdout).toContain("reachable");
    expect(nftTable()).toContain(`ip saddr ${env.agent.bridgeSubnet} oifname != "${env.agent.bridge}" masquerade`);
  });

  it("bad requests: an unknown network and an invalid subnet are clear errors and leave nothing", async () => {
    const before = (await docker("ps", "-aq")).stdout;
    const unknown = await docker("run", "--rm", "--network", "nope", env.image, "true");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("network nope not found");
    expect((await docker("ps", "-aq")).stdout).toBe(before);
    const bad = await docker("network", "create", "--subnet", "10.0.0.1/33", "broken");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid/i);
    const overlap = await docker("network", "create", "--subnet", env.agent.bridgeSubnet, "overlapping");
    expect(overlap.code).not.toBe(0);
    expect(overlap.stderr).toContain("overlaps");
    expect((await docker("network", "ls", "--format", "{{.Name}}")).stdout).not.toMatch(/broken|overlapping/);
  });
});

describe("volumes and bind mounts", () => {
  it("a named volume outlives its container; a volume in use can't be removed", async () => {
    expect((await docker("run", "--rm", "-v", "data:/data", env.image, "sh", "-c", "echo kept > /data/file")).code).toBe(0);
    expect((await docker("run", "--rm", "-v", "data:/data", env.image, "cat", "/data/file")).stdout).toBe("kept\n");
    const ls = await docker("volume", "ls", "--format", "{{.Name}} {{.Driver}}");
    expect(ls.stdout).toContain("data local");
    const inspect = JSON.parse((await docker("volume", "inspect", "data")).stdout) as { Mountpoint: string }[];
    expect(await readFile(path.join(inspect[0]!.Mountpoint, "file"), "utf8")).toBe("kept\n");

    await docker("create", "--name", "holder", "-v", "data:/data", env.image, "true");
    const inUse = await docker("volume", "rm", "data");
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toContain("volume is in use");
    expect((await docker("volume", "ls", "-q")).stdout).toContain("data");
    await docker("rm", "holder");
    expect((await docker("volume", "rm", "data")).code).toBe(0);
  });

  it("an empty volume is filled from the image; binds can be read-only; tmpfs mounts", async () => {
    const copied = await docker("run", "--rm", "-v", "filled:/srv", env.image, "cat", "/srv/hello.txt");
    expect(copied.stdout).toBe("hello from the image\n");
    const hostDir = await mkdtemp(path.join(work, "bind-"));
    execFileSync("sh", ["-c", `echo from-host > ${hostDir}/note`]);
    const rw = await docker("run", "--rm", "-v", `${hostDir}:/mnt`, env.image, "sh", "-c", "cat /mnt/note; echo from-container > /mnt/back");
    expect(rw.stdout).toBe("from-host\n");
    expect(await readFile(path.join(hostDir, "back"), "utf8")).toBe("from-container\n");
    const ro = await docker("run", "--rm", "-v", `${hostDir}:/mnt:ro`, env.image, "touch", "/mnt/nope");
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("Read-only file system");
    const tmpfs = await docker("run", "--rm", "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m", env.image, "sh", "-c", "df -k /scratch | tail -1");
    expect(tmpfs.stdout).toMatch(/^tmpfs\s+1024\s/);
    // Anonymous volumes go with --rm.
    const anonBefore = (await docker("volume", "ls", "-q")).stdout.trim().split("\n").filter(Boolean).length;
    await docker("run", "--rm", "-v", "/scratch2", env.image, "true");
    expect((await docker("volume", "ls", "-q")).stdout.trim().split("\n").filter(Boolean).length).toBe(anonBefore);
    await docker("volume", "rm", "filled");
  });
});
