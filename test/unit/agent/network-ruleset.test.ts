import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildRuleset, deleteTableScript, LOOPBACK_CLIENT_SOURCE, type PortRule, type RulesetNetwork, tableName } from "../../../agent/network/ruleset";

const NFT = "/usr/sbin/nft";
const canCheck = existsSync(NFT) && process.getuid?.() === 0;

const lan: RulesetNetwork = { bridge: "berth0", subnet: "172.30.0.0/16", internal: false };
const app: RulesetNetwork = { bridge: "br-app", subnet: "10.89.1.0/24", internal: false };
const secret: RulesetNetwork = { bridge: "br-secret", subnet: "10.89.2.0/24", internal: true };

const ports: PortRule[] = [
  { hostIp: "", hostPort: 8080, proto: "tcp", containerIp: "172.30.0.2", containerPort: 80 },
  { hostIp: "127.0.0.1", hostPort: 5353, proto: "udp", containerIp: "172.30.0.3", containerPort: 53 },
  { hostIp: "0.0.0.0", hostPort: 9000, proto: "tcp", containerIp: "10.89.1.2", containerPort: 9000 },
];

const linesOf = (s: string) => s.split("\n").map((l) => l.trim());

describe("tableName", () => {
  it("prefixes and sanitises the bridge name", () => {
    expect(tableName("berth0")).toBe("berth_berth0");
    expect(tableName("bt-a.b")).toBe("berth_bt_a_b");
    expect(tableName("we ird/ñ:x")).toMatch(/^berth_[A-Za-z0-9_]+$/);
    expect(tableName("Ok_9")).toBe("berth_Ok_9");
  });
});

describe("buildRuleset", () => {
  it("starts with create, delete, create for an atomic replace and ends with a newline", () => {
    const out = buildRuleset("berth_x", [lan], []);
    const lines = out.split("\n");
    expect(lines.slice(0, 3)).toEqual(["table ip berth_x", "delete table ip berth_x", "table ip berth_x {"]);
    expect(out.endsWith("}\n")).toBe(true);
  });

  it("defines the nat and filter base chains", () => {
    const out = buildRuleset("t", [lan], []);
    expect(out).toContain("type nat hook prerouting priority dstnat; policy accept;");
    expect(out).toContain("type nat hook output priority -100; policy accept;");
    expect(out).toContain("type nat hook postrouting priority srcnat; policy accept;");
    expect(out).toContain("type filter hook forward priority filter; policy accept;");
    expect(linesOf(out).filter((l) => l === "fib daddr type local jump publish")).toHaveLength(2);
  });

  it("masquerades outbound traffic once per non-internal network; loopback clients get their own source once per bridge", () => {
    const lines = linesOf(buildRuleset("t", [lan, app, secret], []));
    const outbound = lines.filter((l) => /^ip saddr (?!127\.)\S+ oifname != "[^"]+" masquerade$/.test(l));
    expect(outbound).toEqual(['ip saddr 172.30.0.0/16 oifname != "berth0" masquerade', 'ip saddr 10.89.1.0/24 oifname != "br-app" masquerade']);
    const loop = lines.filter((l) => l.startsWith("ip saddr 127.0.0.0/8"));
    // Not the gateway (the host's direct connections to containers come from there), except on an internal
    // network, whose containers have no default route to send replies to any other address.
    expect(loop).toEqual([
      `ip saddr 127.0.0.0/8 oifname "berth0" snat to ${LOOPBACK_CLIENT_SOURCE}`,
      `ip saddr 127.0.0.0/8 oifname "br-app" snat to ${LOOPBACK_CLIENT_SOURCE}`,
      'ip saddr 127.0.0.0/8 oifname "br-secret" masquerade',
    ]);
    expect(LOOPBACK_CLIENT_SOURCE).toBe("192.0.0.8");
  });

  it("writes one DNAT rule per port, with ip daddr only for a specific host address", () => {
    const lines = linesOf(buildRuleset("t", [lan], ports));
    const dnat = lines.filter((l) => l.includes(" dnat to "));
    expect(dnat).toEqual(["tcp dport 8080 dnat to 172.30.0.2:80", "ip daddr 127.0.0.1 udp dport 5353 dnat to 172.30.0.3:53", "tcp dport 9000 dnat to 10.89.1.2:9000"]);
  });

  it("places DNAT rules inside the publish chain", () => {
    const out = buildRuleset("t", [lan], ports);
    const publish = /chain publish \{\n([\s\S]*?)\n {2}\}/.exec(out)?.[1] ?? "";
    expect(linesOf(publish)).toHaveLength(3);
  });

  it("has an empty publish chain without ports", () => {
    expect(buildRuleset("t", [lan], [])).toContain("  chain publish {\n  }\n");
  });

  it("drops forwarding between every ordered pair of distinct bridges", () => {
    const nets = [lan, app, { ...secret, internal: false }];
    const lines = linesOf(buildRuleset("t", nets, []));
    const drops = lines.filter((l) => /^iifname "[^"]+" oifname "[^"]+" drop$/.test(l));
    expect(drops).toHaveLength(6);
    for (const a of nets) {
      for (const b of nets) {
        const rule = `iifname "${a.bridge}" oifname "${b.bridge}" drop`;
        expect(drops.includes(rule)).toBe(a.bridge !== b.bridge);
      }
    }
  });

  it("has no isolation drops for a single non-internal network (only the loopback guard)", () => {
    const drops = linesOf(buildRuleset("t", [lan], [])).filter((l) => l.endsWith("drop"));
    expect(drops).toEqual(['iifname "berth0" ip daddr 127.0.0.0/8 ct status & dnat != dnat drop']);
  });

  it("keeps containers off the host's 127.0.0.1-only services (route_localnet guard), per bridge", () => {
    const lines = linesOf(buildRuleset("t", [lan, secret], []));
    expect(lines).toContain('iifname "berth0" ip daddr 127.0.0.0/8 ct status & dnat != dnat drop');
    expect(lines).toContain('iifname "br-secret" ip daddr 127.0.0.0/8 ct status & dnat != dnat drop');
  });

  it("isolates internal networks in both directions and gives them no outbound NAT", () => {
    const out = buildRuleset("t", [lan, secret], []);
    const lines = linesOf(out);
    expect(lines).toContain('iifname "br-secret" oifname != "br-secret" drop');
    expect(lines).toContain('oifname "br-secret" iifname != "br-secret" drop');
    expect(lines.some((l) => l.startsWith("ip saddr 10.89.2.0/24"))).toBe(false);
    expect(lines.filter((l) => l.includes("!=") && l.includes("berth0") && l.endsWith("drop") && !l.includes("ct status"))).toEqual([]);
  });

  it("handles no networks at all", () => {
    const out = buildRuleset("t", [], []);
    expect(out).not.toContain("masquerade");
    expect(out).not.toContain("drop");
    expect(out.split("\n").slice(0, 3)).toEqual(["table ip t", "delete table ip t", "table ip t {"]);
  });

  it.skipIf(!canCheck)("is accepted by nft in check mode", () => {
    const table = tableName("berth0");
    const script = buildRuleset(table, [lan, secret], ports);
    const r = spawnSync(NFT, ["-c", "-f", "-"], { input: script, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it.skipIf(!canCheck)("nft check mode rejects a broken script (sanity check of the harness)", () => {
    const r = spawnSync(NFT, ["-c", "-f", "-"], { input: "table ip t {\n  chain c {\n    bogus rule\n  }\n}\n", encoding: "utf8" });
    expect(r.status).not.toBe(0);
  });
});

describe("deleteTableScript", () => {
  it("creates then deletes the table so it works whether or not the table exists", () => {
    expect(deleteTableScript("berth_berth0")).toBe("table ip berth_berth0\ndelete table ip berth_berth0\n");
  });

  it.skipIf(!canCheck)("is accepted by nft in check mode", () => {
    const r = spawnSync(NFT, ["-c", "-f", "-"], { input: deleteTableScript("berth_unit_check"), encoding: "utf8" });
    expect(r.status).toBe(0);
  });
});
