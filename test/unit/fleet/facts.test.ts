import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { agentConfigSchema } from "../../../server/fleet/agent-config";
import { factsScript, hostFactsSchema, parseFacts } from "../../../server/fleet/install/facts";

const NOW = new Date("2026-03-04T05:06:07.000Z");

const SAMPLE = `os=Linux
kernel=6.8.0-45-generic
arch=x86_64
distro=Ubuntu 24.04.1 LTS
cpus=8
memKb=16315380
diskKb=102626232
diskFreeKb=51313116
load=0.42
cgroup=v2
namespaces=1
overlay=1
runc=1.1.12
conmon=2.1.10
ip=1
nft=1
node=v20.11.1
uid=0
systemd=1
pkg=apt
agent={"Version":"0.3.1","ApiVersion":"1.43"}
`;

describe("fleet/install/facts", () => {
  it("parses a full sample into typed facts", () => {
    const facts = parseFacts(SAMPLE, NOW);
    expect(facts).toEqual({
      os: "Linux",
      kernel: "6.8.0-45-generic",
      arch: "x86_64",
      distro: "Ubuntu 24.04.1 LTS",
      cpus: 8,
      memoryBytes: 16315380 * 1024,
      diskBytes: 102626232 * 1024,
      diskFreeBytes: 51313116 * 1024,
      load: 0.42,
      cgroup: "v2",
      namespaces: true,
      overlay: true,
      runc: "1.1.12",
      conmon: "2.1.10",
      ip: true,
      nft: true,
      node: "v20.11.1",
      root: true,
      sudo: false,
      systemd: true,
      packageManager: "apt",
      agentVersion: "0.3.1",
      gatheredAt: "2026-03-04T05:06:07.000Z",
    });
    expect(hostFactsSchema.parse(facts)).toEqual(facts);
  });

  it("tolerates CRLF line ends and values containing =", () => {
    const facts = parseFacts("os=Linux\r\ndistro=Weird=Name\r\ncpus=2\r\n", NOW);
    expect(facts).toMatchObject({ os: "Linux", distro: "Weird=Name", cpus: 2 });
  });

  it("leaves missing keys undefined or false", () => {
    const facts = parseFacts("os=Linux\nuid=1000\nsudo=1\n", NOW);
    expect(facts).toEqual({
      os: "Linux",
      kernel: undefined,
      arch: undefined,
      distro: undefined,
      cpus: undefined,
      memoryBytes: undefined,
      diskBytes: undefined,
      diskFreeBytes: undefined,
      load: undefined,
      cgroup: undefined,
      namespaces: false,
      overlay: false,
      runc: undefined,
      conmon: undefined,
      ip: false,
      nft: false,
      node: undefined,
      root: false,
      sudo: true,
      systemd: false,
      packageManager: undefined,
      agentVersion: undefined,
      gatheredAt: NOW.toISOString(),
    });
    expect(hostFactsSchema.safeParse(facts).success).toBe(true);
  });

  it("calls an empty answer an unknown OS", () => {
    expect(parseFacts("", NOW)).toMatchObject({ os: "unknown", root: false, namespaces: false });
  });

  it("ignores empty and non-numeric numbers and unknown enum values", () => {
    const facts = parseFacts("os=Linux\ncpus=\nmemKb=lots\nload=\ncgroup=v3\npkg=yum\n", NOW);
    expect(facts).toMatchObject({ cpus: undefined, memoryBytes: undefined, load: undefined, cgroup: undefined, packageManager: undefined });
  });

  it("tolerates bad agent JSON", () => {
    for (const agent of ["{not json", "null", '"1.0"', "[]", "{}"]) {
      expect(parseFacts(`os=Linux\nagent=${agent}\n`, NOW).agentVersion).toBeUndefined();
    }
    expect(parseFacts("os=Linux\nagent=\n", NOW).agentVersion).toBeUndefined();
  });

  it("gathers real facts through a local sh", () => {
    const script = factsScript(agentConfigSchema.parse({}));
    const out = execFileSync("sh", ["-c", script], { encoding: "utf8" });
    const facts = parseFacts(out);
    expect(facts.os).toBe("Linux");
    expect(facts.cpus).toBeGreaterThan(0);
    expect(facts.kernel).toBeTruthy();
    expect(facts.memoryBytes).toBeGreaterThan(0);
    expect(facts.root).toBe(process.getuid?.() === 0);
    expect(hostFactsSchema.safeParse(facts).success).toBe(true);
  });

  it("the script is valid sh and quotes the agent path", () => {
    const script = factsScript(agentConfigSchema.parse({ installDir: "/opt/berth" }));
    expect(script).toContain("node /opt/berth/berth-agent.mjs version --json");
    expect(() => execFileSync("sh", ["-n", "-c", script])).not.toThrow();
  });
});
