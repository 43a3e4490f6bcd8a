import { describe, expect, it } from "vitest";
import { contains, gatewayOf, ipToNumber, numberToIp, overlaps, parseSubnet, size, SubnetError } from "../../../agent/network/subnet";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SubnetError);
    return (err as Error).message;
  }
  throw new Error("expected a SubnetError");
}

describe("ipToNumber / numberToIp", () => {
  it("converts known addresses", () => {
    expect(ipToNumber("0.0.0.0")).toBe(0);
    expect(ipToNumber("0.0.0.1")).toBe(1);
    expect(ipToNumber("10.0.0.1")).toBe(0x0a000001);
    expect(ipToNumber("255.255.255.255")).toBe(0xffffffff);
    expect(numberToIp(0xac1e0001)).toBe("172.30.0.1");
    expect(numberToIp(0xffffffff)).toBe("255.255.255.255");
  });

  it("round-trips", () => {
    for (const ip of ["0.0.0.0", "1.2.3.4", "10.0.0.0", "127.0.0.1", "172.16.255.254", "192.168.1.1", "128.0.0.0", "255.255.255.255"]) {
      expect(numberToIp(ipToNumber(ip))).toBe(ip);
    }
    for (const n of [0, 1, 255, 256, 0x7fffffff, 0x80000000, 0xfffffffe]) expect(ipToNumber(numberToIp(n))).toBe(n);
  });

  it("returns unsigned numbers for the upper half of the space", () => {
    expect(ipToNumber("200.1.2.3")).toBeGreaterThan(0);
  });

  it.each(["1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "a.b.c.d", "", "1..2.3", "1.2.3.-4", "1.2.3.4 ", "1234.1.1.1"])("rejects %j", (ip) => {
    expect(errorOf(() => ipToNumber(ip))).toContain("invalid IPv4 address");
  });
});

describe("parseSubnet", () => {
  it("parses a valid CIDR", () => {
    expect(parseSubnet("10.0.0.0/24")).toEqual({ base: 0x0a000000, prefix: 24, cidr: "10.0.0.0/24" });
    expect(parseSubnet("172.16.0.0/12")).toEqual({ base: 0xac100000, prefix: 12, cidr: "172.16.0.0/12" });
    expect(parseSubnet("192.168.1.0/30").prefix).toBe(30);
    expect(parseSubnet("10.0.0.0/8").prefix).toBe(8);
  });

  it("tolerates surrounding whitespace", () => {
    expect(parseSubnet(" 10.1.0.0/16 ").cidr).toBe("10.1.0.0/16");
  });

  it("refuses host bits and suggests the network address", () => {
    const msg = errorOf(() => parseSubnet("10.0.0.1/24"));
    expect(msg).toContain("host bits are set");
    expect(msg).toContain("10.0.0.0/24");
    expect(errorOf(() => parseSubnet("172.30.5.7/16"))).toContain("172.30.0.0/16");
  });

  it("refuses prefixes outside /8../30", () => {
    expect(errorOf(() => parseSubnet("10.0.0.0/33"))).toMatch(/prefix must be between \/8 and \/30/);
    expect(errorOf(() => parseSubnet("10.0.0.0/7"))).toMatch(/prefix must be between/);
    expect(errorOf(() => parseSubnet("10.0.0.0/31"))).toMatch(/prefix must be between/);
    expect(errorOf(() => parseSubnet("0.0.0.0/0"))).toMatch(/prefix must be between/);
  });

  it.each(["10.0.0.0", "garbage", "", "10.0.0.0/", "/24", "10.0.0.0/24/1", "10.0.0.0/abc", "10.0.0.0/100"])("refuses %j with an example of the expected form", (cidr) => {
    const msg = errorOf(() => parseSubnet(cidr));
    expect(msg).toContain("invalid subnet");
    expect(msg).toContain("expected an IPv4 CIDR");
  });

  it("refuses an invalid address part", () => {
    expect(errorOf(() => parseSubnet("300.0.0.0/24"))).toContain("invalid IPv4 address");
    expect(errorOf(() => parseSubnet("10.0.0/24"))).toContain("invalid IPv4 address");
  });
});

describe("size / gatewayOf / contains / overlaps", () => {
  it("computes sizes", () => {
    expect(size(parseSubnet("10.0.0.0/24"))).toBe(256);
    expect(size(parseSubnet("10.0.0.0/30"))).toBe(4);
    expect(size(parseSubnet("10.0.0.0/16"))).toBe(65536);
    expect(size(parseSubnet("10.0.0.0/8"))).toBe(2 ** 24);
  });

  it("uses the first usable address as gateway", () => {
    expect(gatewayOf(parseSubnet("172.17.0.0/16"))).toBe("172.17.0.1");
    expect(gatewayOf(parseSubnet("192.168.10.0/24"))).toBe("192.168.10.1");
  });

  it("checks membership at the edges", () => {
    const s = parseSubnet("10.0.1.0/24");
    expect(contains(s, "10.0.1.0")).toBe(true);
    expect(contains(s, "10.0.1.1")).toBe(true);
    expect(contains(s, "10.0.1.255")).toBe(true);
    expect(contains(s, "10.0.0.255")).toBe(false);
    expect(contains(s, "10.0.2.0")).toBe(false);
    const high = parseSubnet("200.0.0.0/8");
    expect(contains(high, "200.255.255.255")).toBe(true);
    expect(contains(high, "201.0.0.0")).toBe(false);
  });

  it("throws on an invalid address in contains", () => {
    expect(errorOf(() => contains(parseSubnet("10.0.0.0/24"), "10.0.0"))).toContain("invalid IPv4 address");
  });

  it("detects overlap symmetrically", () => {
    const a = parseSubnet("10.0.0.0/24");
    const b = parseSubnet("10.0.1.0/24");
    const wide = parseSubnet("10.0.0.0/16");
    const other = parseSubnet("10.1.0.0/16");
    expect(overlaps(a, b)).toBe(false);
    expect(overlaps(b, a)).toBe(false);
    expect(overlaps(wide, b)).toBe(true);
    expect(overlaps(b, wide)).toBe(true);
    expect(overlaps(a, a)).toBe(true);
    expect(overlaps(wide, other)).toBe(false);
    expect(overlaps(parseSubnet("10.0.0.0/8"), other)).toBe(true);
  });
});
