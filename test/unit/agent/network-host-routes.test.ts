import { describe, expect, it } from "vitest";
import { claimOverlapping, parseAddresses, parseRoutes } from "../../../agent/network/host-routes";
import { parseSubnet } from "../../../agent/network/subnet";

// `ip -4 -j route show table all` and `ip -4 -j addr show` as Debian 12's iproute2 prints them.
const ROUTES = JSON.stringify([
  { dst: "default", gateway: "192.168.1.1", dev: "eth0", flags: [] },
  { dst: "192.168.1.0/24", dev: "eth0", protocol: "kernel", scope: "link", prefsrc: "192.168.1.20", flags: [] },
  { dst: "10.8.0.0/16", gateway: "192.168.1.254", dev: "eth0", flags: [] },
  { dst: "172.29.0.0/16", dev: "berth0", protocol: "kernel", scope: "link", prefsrc: "172.29.0.1", flags: [] },
  { type: "unreachable", dst: "10.99.0.0/24", flags: [] },
  { type: "local", dst: "127.0.0.0/8", dev: "lo", table: "local", protocol: "kernel", scope: "host", prefsrc: "127.0.0.1", flags: [] },
  { type: "local", dst: "192.168.1.20", dev: "eth0", table: "local", protocol: "kernel", scope: "host", prefsrc: "192.168.1.20", flags: [] },
  { dst: "0.0.0.0/0", gateway: "10.0.0.1", dev: "wg0", table: "51820", flags: [] },
]);
const ADDRS = JSON.stringify([
  { ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }] },
  { ifname: "eth0", addr_info: [{ family: "inet", local: "192.168.1.20", prefixlen: 24 }] },
  { ifname: "ppp0", addr_info: [{ family: "inet", local: "100.64.0.2", address: "100.64.9.9", prefixlen: 32 }] },
  { ifname: "berth0", addr_info: [{ family: "inet", local: "172.29.0.1", prefixlen: 16 }] },
]);
const OWN = new Set(["berth0"]);

describe("the host's routes and addresses", () => {
  it("takes every table's routes but default ones and the agent's own bridges", () => {
    expect(parseRoutes(ROUTES, OWN).map((c) => c.source)).toEqual([
      "route 192.168.1.0/24 dev eth0",
      "route 10.8.0.0/16 via 192.168.1.254 dev eth0",
      "route 10.99.0.0/24 unreachable",
      "route 127.0.0.0/8 local dev lo table local",
      "route 192.168.1.20 local dev eth0 table local",
    ]);
  });

  it("takes each address's network and a point-to-point peer, but not the agent's own bridges", () => {
    expect(parseAddresses(ADDRS, OWN).map((c) => c.subnet.cidr)).toEqual(["127.0.0.0/8", "192.168.1.0/24", "100.64.0.2/32", "100.64.9.9/32"]);
  });

  it("finds the claim a subnet overlaps, in either direction", () => {
    const claims = [...parseRoutes(ROUTES, OWN), ...parseAddresses(ADDRS, OWN)];
    expect(claimOverlapping(claims, parseSubnet("10.8.3.0/24"))?.source).toBe("route 10.8.0.0/16 via 192.168.1.254 dev eth0");
    expect(claimOverlapping(claims, parseSubnet("192.168.0.0/16"))?.source).toBe("route 192.168.1.0/24 dev eth0");
    expect(claimOverlapping(claims, parseSubnet("100.64.0.0/24"))?.source).toBe("address 100.64.0.2/32 on ppp0");
    expect(claimOverlapping(claims, parseSubnet("172.29.0.0/16"))).toBeUndefined();
    expect(claimOverlapping(claims, parseSubnet("10.9.0.0/24"))).toBeUndefined();
  });
});
