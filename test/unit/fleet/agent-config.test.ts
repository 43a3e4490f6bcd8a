import { describe, expect, it } from "vitest";
import { AGENT_FILE, agentConfigOf, agentConfigSchema, agentPath, commandLine, serveArgs, teardownArgs } from "../../../server/fleet/agent-config";

describe("fleet/agent-config", () => {
  it("has defaults for a dedicated host", () => {
    const c = agentConfigSchema.parse({});
    expect(c).toEqual({
      installDir: "/usr/local/lib/berth",
      root: "/var/lib/berth",
      socket: "/run/berth/agent.sock",
      insecureRegistries: [],
    });
    expect(agentConfigOf(null)).toEqual(c);
    expect(agentConfigOf(undefined)).toEqual(c);
    expect(agentPath(c)).toBe(`/usr/local/lib/berth/${AGENT_FILE}`);
  });

  it("rejects relative paths and paths with ..", () => {
    for (const key of ["installDir", "root", "socket", "execRoot"]) {
      const relative = agentConfigSchema.safeParse({ [key]: "var/lib/berth" });
      expect(relative.error?.issues.map((i) => [i.path.join("."), i.message])).toContainEqual([key, "must be an absolute path of letters, digits, . _ - and /"]);
      for (const p of ["/var/../etc", "/..", "/var/lib/.."]) {
        expect(agentConfigSchema.safeParse({ [key]: p }).error?.issues.map((i) => i.message)).toContain("must not contain ..");
      }
    }
    expect(agentConfigSchema.safeParse({ root: "/var/lib/berth two" }).success).toBe(false);
    expect(agentConfigSchema.safeParse({ root: "/var/$(id)" }).success).toBe(false);
    // Uninstall can remove installDir and root: never a system directory or a top-level one.
    for (const p of ["/", "/var", "/usr/local/lib", "/var/lib/", "/opt"]) {
      expect(agentConfigSchema.safeParse({ root: p }).success).toBe(false);
      expect(agentConfigSchema.safeParse({ installDir: p }).success).toBe(false);
    }
    // Dots inside names are fine.
    expect(agentConfigSchema.parse({ root: "/srv/..berth/a.b" }).root).toBe("/srv/..berth/a.b");
  });

  it("rejects bad CIDRs, bridge names and registries", () => {
    expect(agentConfigSchema.safeParse({ bridgeSubnet: "172.29.0.0" }).error?.issues[0]?.message).toBe("must be an IPv4 CIDR such as 172.29.0.0/16");
    expect(agentConfigSchema.safeParse({ bridge: "a-bridge-name-too-long" }).success).toBe(false);
    expect(agentConfigSchema.safeParse({ insecureRegistries: ["http://reg:5000"] }).error?.issues[0]?.message).toBe("must be host or host:port");
  });

  it("serveArgs carry the default flags", () => {
    expect(serveArgs(agentConfigSchema.parse({}))).toEqual(["serve", "--root", "/var/lib/berth", "--socket", "/run/berth/agent.sock"]);
    expect(teardownArgs(agentConfigSchema.parse({}))).toEqual(["teardown", "--root", "/var/lib/berth"]);
  });

  it("serveArgs and teardownArgs carry every configured flag", () => {
    const c = agentConfigSchema.parse({
      root: "/srv/b1",
      socket: "/run/b1/agent.sock",
      execRoot: "/run/b1/exec",
      cgroupParent: "berth-b1.slice",
      bridge: "berth1",
      bridgeSubnet: "172.29.0.0/16",
      networkPool: "10.99.0.0/16",
      insecureRegistries: ["registry.local:5000", "mirror"],
    });
    const state = [
      "--root", "/srv/b1",
      "--exec-root", "/run/b1/exec",
      "--cgroup-parent", "berth-b1.slice",
      "--bridge", "berth1",
      "--bridge-subnet", "172.29.0.0/16",
      "--network-pool", "10.99.0.0/16",
    ];
    expect(serveArgs(c)).toEqual([
      "serve",
      ...state,
      "--socket", "/run/b1/agent.sock",
      "--insecure-registry", "registry.local:5000",
      "--insecure-registry", "mirror",
    ]);
    expect(teardownArgs(c)).toEqual(["teardown", ...state]);
  });

  it("commandLine quotes words that need it", () => {
    expect(commandLine(["node", "/usr/local/lib/berth/berth-agent.mjs", "serve"])).toBe("node /usr/local/lib/berth/berth-agent.mjs serve");
    expect(commandLine(["echo", "a b", "it's", ""])).toBe(`echo 'a b' 'it'\\''s' ''`);
  });
});
