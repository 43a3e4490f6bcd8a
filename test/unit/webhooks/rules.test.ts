import { describe, expect, it } from "vitest";
import { addressAllowed, matchesTagPattern, parseAddress, parseAddressBlock, tagPatternProblem } from "../../../server/webhooks/rules";

// A webhook's own restrictions: the tag glob and the source addresses.

describe("tag patterns", () => {
  it("* matches any run, ? one character, the rest literally and in full", () => {
    const cases: [string, string, boolean][] = [
      ["v*", "v1.2.3", true],
      ["v*", "v", true],
      ["v*", "release-v1", false],
      ["main-?", "main-1", true],
      ["main-?", "main-12", false],
      ["*-rc", "1.0-rc", true],
      ["*-rc", "1.0-rc1", false],
      ["*", "anything_at.all", true],
      ["1.*.x", "1.2.x", true],
      ["1.*.x", "1.2.y", false],
      ["latest", "latest", true],
      ["latest", "latest2", false],
      ["a*b*c", "abxbxc", true],
      ["a*b*c", "acb", false],
      ["V*", "v1", false],
    ];
    for (const [pattern, tag, expected] of cases) expect(matchesTagPattern(pattern, tag), `${pattern} ~ ${tag}`).toBe(expected);
  });

  it("stays fast on a pattern built to make a backtracking matcher slow", () => {
    const pattern = `${"*a".repeat(40)}b`;
    expect(matchesTagPattern(pattern, "a".repeat(128))).toBe(false);
  });

  it("refuses what can't be a tag glob, naming what is allowed", () => {
    expect(tagPatternProblem("v*")).toBeNull();
    expect(tagPatternProblem("v[0-9]")).toMatch(/wildcards "\*" and "\?"/);
    expect(tagPatternProblem("a/b")).toMatch(/not a tag pattern/);
    expect(tagPatternProblem("x".repeat(129))).toMatch(/at most 128/);
  });
});

describe("source addresses", () => {
  it("parses IPv4 and IPv6 blocks and single addresses into canonical form", () => {
    expect(parseAddressBlock("10.0.0.0/8")).toMatchObject({ ok: true, canonical: "10.0.0.0/8" });
    expect(parseAddressBlock("192.168.1.7")).toMatchObject({ ok: true, canonical: "192.168.1.7/32" });
    expect(parseAddressBlock("2001:DB8::/32")).toMatchObject({ ok: true, canonical: "2001:db8::/32" });
    expect(parseAddressBlock("::1")).toMatchObject({ ok: true, canonical: "::1/128" });
    expect(parseAddressBlock("[fd00::]/8")).toMatchObject({ ok: true, canonical: "fd00::/8" });
    expect(parseAddressBlock("::ffff:10.0.0.0/104")).toMatchObject({ ok: true, canonical: "10.0.0.0/8" });
    expect(parseAddressBlock("0.0.0.0/0")).toMatchObject({ ok: true, canonical: "0.0.0.0/0" });
  });

  it("refuses what isn't an address or block, with the reason", () => {
    expect(parseAddressBlock("10.0.0.1/8")).toEqual({ ok: false, problem: expect.stringMatching(/did you mean 10\.0\.0\.0\/8/) });
    expect(parseAddressBlock("10.0.0.0/33")).toEqual({ ok: false, problem: expect.stringMatching(/between 0 and 32/) });
    expect(parseAddressBlock("2001:db8::/129")).toEqual({ ok: false, problem: expect.stringMatching(/between 0 and 128/) });
    expect(parseAddressBlock("example.com")).toEqual({ ok: false, problem: expect.stringMatching(/not an IPv4 or IPv6/) });
    expect(parseAddressBlock("256.1.1.1")).toMatchObject({ ok: false });
    expect(parseAddressBlock("10.0.0.0/x")).toMatchObject({ ok: false });
    expect(parseAddressBlock("fe80::1%eth0")).toMatchObject({ ok: false });
  });

  it("an IPv4-mapped IPv6 address is its IPv4 address", () => {
    expect(parseAddress("::ffff:127.0.0.1")).toEqual(parseAddress("127.0.0.1"));
  });

  it("allows a call only from inside a listed block; no blocks: from anywhere; an unknown address: never", () => {
    expect(addressAllowed([], "203.0.113.9")).toBe(true);
    expect(addressAllowed(["127.0.0.0/8"], "127.0.0.1")).toBe(true);
    expect(addressAllowed(["127.0.0.0/8"], "::ffff:127.0.0.1")).toBe(true);
    expect(addressAllowed(["10.0.0.0/8"], "127.0.0.1")).toBe(false);
    expect(addressAllowed(["10.1.2.3/32"], "10.1.2.4")).toBe(false);
    expect(addressAllowed(["2001:db8::/32"], "2001:db8:ffff::1")).toBe(true);
    expect(addressAllowed(["2001:db8::/32"], "2001:db9::1")).toBe(false);
    expect(addressAllowed(["0.0.0.0/0"], "::1")).toBe(false);
    expect(addressAllowed(["10.0.0.0/8"], null)).toBe(false);
    expect(addressAllowed(["10.0.0.0/8"], "unknown")).toBe(false);
  });
});
