import { describe, expect, it } from "vitest";
import { type DeploySpec, type DeploySpecInput, deploySpecSchema } from "../../../lib/deploy/spec";
import { checkDeploy, isPolicyDeniedError, PolicyDeniedError } from "../../../lib/policy/check";
import { evaluatePolicy, formatBytes, type PolicyViolation } from "../../../lib/policy/evaluate";
import {
  DEFAULT_POLICY,
  type DeployPolicy,
  type DeployPolicyInput,
  deployPolicySchema,
  isPathWithin,
  normalisePosixPath,
  RULE_IDS,
  RULES,
} from "../../../lib/policy/rules";
import { normaliseCapability } from "../../../lib/docker/capabilities";

const spec = (input: Partial<DeploySpecInput> = {}): DeploySpec => deploySpecSchema.parse({ image: "busybox", ...input });
const policy = (input: DeployPolicyInput = {}): DeployPolicy => deployPolicySchema.parse(input);
const brief = (violations: PolicyViolation[]) => violations.map((v) => `${v.rule}@${v.field}`);
const bind = (source: string, target = "/mnt") => ({ type: "bind" as const, source, target });

describe("policy schema and defaults", () => {
  it("defaults to the safe settings", () => {
    expect(DEFAULT_POLICY).toEqual({
      allowPrivileged: false,
      allowedCapabilities: [],
      allowHostNamespaces: false,
      bindMountAllowlist: [],
      allowDevices: false,
      registryAllowlist: [],
      requireMemoryLimit: false,
      requireCpuLimit: false,
    });
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_POLICY.bindMountAllowlist)).toBe(true);
  });

  it("has a label for every rule id, and every policy setting is a rule", () => {
    expect([...RULE_IDS].sort()).toEqual(Object.keys(deployPolicySchema.shape).sort());
    for (const id of RULE_IDS) expect(RULES[id]).toMatch(/^[A-Z]/);
    expect(RULES.allowPrivileged).toBe("Allow privileged containers");
    expect(RULES.bindMountAllowlist).toBe("Bind-mount path allowlist");
  });

  it("normalises capabilities, paths and registries on parse", () => {
    const p = policy({
      allowedCapabilities: ["cap_net_admin", "NET_ADMIN", " sys_time "],
      bindMountAllowlist: ["/srv//app/", "/data/./x/.."],
      registryAllowlist: ["Registry.Example.com:5000", "index.docker.io"],
    });
    expect(p.allowedCapabilities).toEqual(["NET_ADMIN", "SYS_TIME"]);
    expect(p.bindMountAllowlist).toEqual(["/srv/app", "/data"]);
    expect(p.registryAllowlist).toEqual(["registry.example.com:5000", "docker.io"]);
  });

  it("rejects malformed policy entries", () => {
    expect(deployPolicySchema.safeParse({ bindMountAllowlist: ["srv"] }).success).toBe(false);
    expect(deployPolicySchema.safeParse({ allowedCapabilities: ["net-admin"] }).success).toBe(false);
    expect(deployPolicySchema.safeParse({ registryAllowlist: ["https://docker.io"] }).success).toBe(false);
    expect(deployPolicySchema.safeParse({ registryAllowlist: ["docker.io/library"] }).success).toBe(false);
    expect(deployPolicySchema.safeParse({ maxMemoryBytes: 0 }).success).toBe(false);
    expect(deployPolicySchema.safeParse({ maxCpus: -1 }).success).toBe(false);
  });
});

describe("helpers", () => {
  it("normalises POSIX paths without node:path", () => {
    expect(normalisePosixPath("/")).toBe("/");
    expect(normalisePosixPath("//")).toBe("/");
    expect(normalisePosixPath("/srv/../etc")).toBe("/etc");
    expect(normalisePosixPath("/srv/app/")).toBe("/srv/app");
    expect(normalisePosixPath("/srv//./app/.")).toBe("/srv/app");
    expect(normalisePosixPath("/../../etc")).toBe("/etc");
    expect(normalisePosixPath("/srv/...")).toBe("/srv/...");
    expect(normalisePosixPath("srv")).toBeNull();
    expect(normalisePosixPath("")).toBeNull();
  });

  it("matches path prefixes by segment", () => {
    expect(isPathWithin("/srv", "/srv")).toBe(true);
    expect(isPathWithin("/srv/app", "/srv")).toBe(true);
    expect(isPathWithin("/srvx", "/srv")).toBe(false);
    expect(isPathWithin("/etc", "/")).toBe(true);
  });

  it("normalises capabilities and formats bytes", () => {
    expect(normaliseCapability("cap_net_admin")).toBe("NET_ADMIN");
    expect(normaliseCapability("all")).toBe("ALL");
    expect(formatBytes(512 * 1024 * 1024)).toBe("512 MiB");
    expect(formatBytes(1.5 * 1024 ** 3)).toBe("1.5 GiB");
  });
});

describe("evaluatePolicy with the defaults", () => {
  it("allows a plain busybox with a named volume, a tmpfs and ports", () => {
    const s = spec({
      mounts: [
        { type: "volume", source: "data", target: "/data" },
        { type: "volume", target: "/cache" },
        { type: "tmpfs", target: "/tmp" },
      ],
      ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, protocol: "udp" }],
      network: "bridge",
      capDrop: ["ALL"],
    });
    expect(evaluatePolicy(s, DEFAULT_POLICY)).toEqual([]);
  });

  it("denies privileged", () => {
    const v = evaluatePolicy(spec({ privileged: true }), DEFAULT_POLICY);
    expect(v).toEqual([
      {
        rule: "allowPrivileged",
        label: "Allow privileged containers",
        field: "privileged",
        message: 'Privileged mode is not allowed — rule "Allow privileged containers"',
      },
    ]);
  });

  it("denies host network, pid and ipc namespaces, each on its own field", () => {
    const v = evaluatePolicy(spec({ network: "host", pidMode: "host", ipcMode: "host" }), DEFAULT_POLICY);
    expect(brief(v)).toEqual(["allowHostNamespaces@network", "allowHostNamespaces@pidMode", "allowHostNamespaces@ipcMode"]);
    expect(brief(evaluatePolicy(spec({ network: "HOST" }), DEFAULT_POLICY))).toEqual(["allowHostNamespaces@network"]);
    expect(evaluatePolicy(spec({ network: "host" }), policy({ allowHostNamespaces: true }))).toEqual([]);
    expect(evaluatePolicy(spec({ network: "none" }), DEFAULT_POLICY)).toEqual([]);
  });

  it("denies any bind mount", () => {
    const v = evaluatePolicy(spec({ mounts: [{ type: "volume", source: "ok", target: "/ok" }, bind("/srv/app")] }), DEFAULT_POLICY);
    expect(brief(v)).toEqual(["bindMountAllowlist@mounts.1.source"]);
    expect(v[0].message).toBe('Bind mount of "/srv/app" is not allowed (no bind mounts are allowed) — rule "Bind-mount path allowlist"');
  });

  it("denies devices, one violation each", () => {
    const v = evaluatePolicy(spec({ devices: [{ hostPath: "/dev/fuse" }, { hostPath: "/dev/kvm" }] }), DEFAULT_POLICY);
    expect(brief(v)).toEqual(["allowDevices@devices.0.hostPath", "allowDevices@devices.1.hostPath"]);
    expect(v[1].message).toContain('"/dev/kvm"');
    expect(evaluatePolicy(spec({ devices: [{ hostPath: "/dev/fuse" }] }), policy({ allowDevices: true }))).toEqual([]);
  });

  it("allows privileged when the policy does", () => {
    expect(evaluatePolicy(spec({ privileged: true }), policy({ allowPrivileged: true }))).toEqual([]);
  });
});

describe("bind-mount allowlist", () => {
  const srv = policy({ bindMountAllowlist: ["/srv"] });

  it("denies / with an allowlist, naming the allowed paths", () => {
    const v = evaluatePolicy(spec({ mounts: [bind("/")] }), policy({ bindMountAllowlist: ["/srv", "/data"] }));
    expect(v).toEqual([
      {
        rule: "bindMountAllowlist",
        label: "Bind-mount path allowlist",
        field: "mounts.0.source",
        message: 'Bind mount of "/" is outside the allowed paths (/srv, /data) — rule "Bind-mount path allowlist"',
      },
    ]);
  });

  it("normalises before matching: /srv/../etc is /etc and denied", () => {
    const v = evaluatePolicy(spec({ mounts: [bind("/srv/../etc")] }), srv);
    expect(brief(v)).toEqual(["bindMountAllowlist@mounts.0.source"]);
    expect(v[0].message).toContain('"/srv/../etc" (/etc)');
    expect(brief(evaluatePolicy(spec({ mounts: [bind("/srv/app/../../etc/shadow")] }), srv))).toEqual(["bindMountAllowlist@mounts.0.source"]);
    expect(brief(evaluatePolicy(spec({ mounts: [bind("//srv/./..//")] }), srv))).toEqual(["bindMountAllowlist@mounts.0.source"]);
  });

  it("allows /srv, /srv/app/ and //srv//app, but not /srvx or /sr", () => {
    for (const ok of ["/srv", "/srv/", "/srv/app/", "//srv//app", "/srv/app/../other", "/srv/./x"]) {
      expect(evaluatePolicy(spec({ mounts: [bind(ok)] }), srv), ok).toEqual([]);
    }
    for (const bad of ["/srvx", "/srvx/app", "/sr", "/"]) {
      expect(brief(evaluatePolicy(spec({ mounts: [bind(bad)] }), srv)), bad).toEqual(["bindMountAllowlist@mounts.0.source"]);
    }
  });

  it("allows everything when / is listed", () => {
    expect(evaluatePolicy(spec({ mounts: [bind("/"), bind("/etc/../var/run/docker.sock")] }), policy({ bindMountAllowlist: ["/"] }))).toEqual([]);
  });

  it("normalises a hand-built policy too, and fails closed on a relative source", () => {
    const handBuilt: DeployPolicy = { ...DEFAULT_POLICY, bindMountAllowlist: ["/srv/app/"] };
    expect(evaluatePolicy(spec({ mounts: [bind("/srv/app/x")] }), handBuilt)).toEqual([]);
    const unchecked = { ...spec(), mounts: [{ type: "bind", source: "srv/app", target: "/x", readOnly: false }] } as DeploySpec;
    const v = evaluatePolicy(unchecked, policy({ bindMountAllowlist: ["/"] }));
    expect(brief(v)).toEqual(["bindMountAllowlist@mounts.0.source"]);
    expect(v[0].message).toContain("not an absolute path");
  });
});

describe("capabilities", () => {
  it("denies every added capability by default, one violation each", () => {
    const v = evaluatePolicy(spec({ capAdd: ["NET_ADMIN", "SYS_TIME"] }), DEFAULT_POLICY);
    expect(brief(v)).toEqual(["allowedCapabilities@capAdd.0", "allowedCapabilities@capAdd.1"]);
    expect(v[0].message).toBe('Capability "NET_ADMIN" is not allowed (no capabilities may be added) — rule "Allowed capabilities"');
  });

  it("normalises both sides: cap_net_admin vs NET_ADMIN", () => {
    expect(evaluatePolicy(spec({ capAdd: ["cap_net_admin", "NET_ADMIN", "CAP_NET_ADMIN"] }), policy({ allowedCapabilities: ["NET_ADMIN"] }))).toEqual([]);
    expect(evaluatePolicy(spec({ capAdd: ["NET_ADMIN"] }), policy({ allowedCapabilities: ["cap_net_admin"] }))).toEqual([]);
    const handBuilt: DeployPolicy = { ...DEFAULT_POLICY, allowedCapabilities: ["cap_net_admin"] };
    expect(evaluatePolicy(spec({ capAdd: ["net_admin"] }), handBuilt)).toEqual([]);
  });

  it("flags only the capabilities not allowed", () => {
    const v = evaluatePolicy(spec({ capAdd: ["NET_ADMIN", "SYS_ADMIN"] }), policy({ allowedCapabilities: ["NET_ADMIN"] }));
    expect(brief(v)).toEqual(["allowedCapabilities@capAdd.1"]);
    expect(v[0].message).toContain("allowed: NET_ADMIN");
  });

  it('capAdd ["ALL"] needs ALL allowed; ALL allows any', () => {
    const v = evaluatePolicy(spec({ capAdd: ["ALL"] }), policy({ allowedCapabilities: ["NET_ADMIN", "SYS_ADMIN"] }));
    expect(brief(v)).toEqual(["allowedCapabilities@capAdd.0"]);
    expect(v[0].message).toContain("all capabilities");
    expect(brief(evaluatePolicy(spec({ capAdd: ["all"] }), DEFAULT_POLICY))).toEqual(["allowedCapabilities@capAdd.0"]);
    expect(evaluatePolicy(spec({ capAdd: ["ALL", "SYS_ADMIN", "cap_bpf"] }), policy({ allowedCapabilities: ["all"] }))).toEqual([]);
  });

  it("never judges capDrop", () => {
    expect(evaluatePolicy(spec({ capDrop: ["ALL", "NET_RAW"] }), DEFAULT_POLICY)).toEqual([]);
  });
});

describe("registry allowlist", () => {
  it("allows any registry when the list is empty", () => {
    for (const image of ["nginx", "127.0.0.1:5000/x", "ghcr.io/org/app:1"]) expect(evaluatePolicy(spec({ image }), DEFAULT_POLICY)).toEqual([]);
  });

  it("treats nginx as docker.io", () => {
    expect(evaluatePolicy(spec({ image: "nginx:1.27" }), policy({ registryAllowlist: ["docker.io"] }))).toEqual([]);
    expect(evaluatePolicy(spec({ image: "library/nginx" }), policy({ registryAllowlist: ["DOCKER.IO"] }))).toEqual([]);
    expect(evaluatePolicy(spec({ image: "index.docker.io/library/nginx" }), policy({ registryAllowlist: ["docker.io"] }))).toEqual([]);
    const v = evaluatePolicy(spec({ image: "nginx" }), policy({ registryAllowlist: ["registry.example.com"] }));
    expect(v).toEqual([
      {
        rule: "registryAllowlist",
        label: "Registry allowlist",
        field: "image",
        message: 'Image "nginx" comes from registry "docker.io", which is not allowed (registry.example.com) — rule "Registry allowlist"',
      },
    ]);
  });

  it("allows 127.0.0.1:5000/x only when listed (port included)", () => {
    const image = "127.0.0.1:5000/x";
    expect(brief(evaluatePolicy(spec({ image }), policy({ registryAllowlist: ["docker.io"] })))).toEqual(["registryAllowlist@image"]);
    expect(brief(evaluatePolicy(spec({ image }), policy({ registryAllowlist: ["127.0.0.1"] })))).toEqual(["registryAllowlist@image"]);
    expect(evaluatePolicy(spec({ image }), policy({ registryAllowlist: ["docker.io", "127.0.0.1:5000"] }))).toEqual([]);
  });

  it("matches case-insensitively", () => {
    const s = spec({ image: "Registry.Example.com:5000/team/app@sha256:" + "a".repeat(64) });
    expect(evaluatePolicy(s, policy({ registryAllowlist: ["registry.example.com:5000"] }))).toEqual([]);
    const handBuilt: DeployPolicy = { ...DEFAULT_POLICY, registryAllowlist: ["REGISTRY.example.COM:5000"] };
    expect(evaluatePolicy(s, handBuilt)).toEqual([]);
  });

  it("reports a malformed image as its own violation on image", () => {
    const unchecked = { ...spec(), image: "Not A Valid//Image" } as DeploySpec;
    const v = evaluatePolicy(unchecked, policy({ registryAllowlist: ["docker.io"] }));
    expect(brief(v)).toEqual(["registryAllowlist@image"]);
    expect(v[0].message).toContain("can't be checked");
    expect(v[0].message).toContain("invalid reference");
  });
});

describe("resource limits", () => {
  const MiB = 1024 * 1024;

  it("requires limits when asked", () => {
    const p = policy({ requireMemoryLimit: true, requireCpuLimit: true });
    expect(brief(evaluatePolicy(spec(), p))).toEqual(["requireMemoryLimit@memoryBytes", "requireCpuLimit@cpus"]);
    expect(evaluatePolicy(spec({ memoryBytes: 64 * MiB, cpus: 0.5 }), p)).toEqual([]);
  });

  it("enforces maxima, inclusive", () => {
    const p = policy({ maxMemoryBytes: 512 * MiB, maxCpus: 2 });
    expect(evaluatePolicy(spec({ memoryBytes: 512 * MiB, cpus: 2 }), p)).toEqual([]);
    const v = evaluatePolicy(spec({ memoryBytes: 1024 * MiB, cpus: 2.5 }), p);
    expect(brief(v)).toEqual(["maxMemoryBytes@memoryBytes", "maxCpus@cpus"]);
    expect(v[0].message).toBe('Memory limit 1 GiB is above the maximum of 512 MiB — rule "Maximum memory limit"');
    expect(v[1].message).toBe('CPU limit 2.5 is above the maximum of 2 CPUs — rule "Maximum CPU limit"');
  });

  it("treats no limit as above a maximum, reported once per field", () => {
    expect(brief(evaluatePolicy(spec(), policy({ maxMemoryBytes: 512 * MiB, maxCpus: 2 })))).toEqual([
      "maxMemoryBytes@memoryBytes",
      "maxCpus@cpus",
    ]);
    expect(brief(evaluatePolicy(spec(), policy({ requireMemoryLimit: true, maxMemoryBytes: 512 * MiB })))).toEqual([
      "requireMemoryLimit@memoryBytes",
    ]);
  });
});

describe("several violations", () => {
  it("lists every offending item with its field", () => {
    const s = spec({
      image: "ghcr.io/org/app:1",
      privileged: true,
      capAdd: ["SYS_ADMIN", "cap_net_admin"],
      network: "host",
      mounts: [{ type: "volume", source: "v", target: "/v" }, bind("/etc"), { type: "tmpfs", target: "/t" }, bind("/srv/app")],
      devices: [{ hostPath: "/dev/sda" }],
    });
    const p = policy({ allowedCapabilities: ["NET_ADMIN"], bindMountAllowlist: ["/srv"], registryAllowlist: ["docker.io"], requireMemoryLimit: true });
    expect(brief(evaluatePolicy(s, p))).toEqual([
      "registryAllowlist@image",
      "allowPrivileged@privileged",
      "allowedCapabilities@capAdd.0",
      "allowHostNamespaces@network",
      "bindMountAllowlist@mounts.1.source",
      "allowDevices@devices.0.hostPath",
      "requireMemoryLimit@memoryBytes",
    ]);
  });
});

describe("checkDeploy", () => {
  const bad = spec({ privileged: true, mounts: [bind("/")] });

  it("allows a clean spec, whatever the override flags", () => {
    for (const override of [false, true]) {
      for (const mayOverride of [false, true]) {
        expect(checkDeploy(spec(), DEFAULT_POLICY, { override, mayOverride })).toEqual({ allowed: true, violations: [], overridden: [] });
      }
    }
  });

  it("denies violations without an override", () => {
    for (const mayOverride of [false, true]) {
      const r = checkDeploy(bad, DEFAULT_POLICY, { override: false, mayOverride });
      expect(r.allowed).toBe(false);
      expect(brief(r.violations)).toEqual(["allowPrivileged@privileged", "bindMountAllowlist@mounts.0.source"]);
      expect(r.overridden).toEqual([]);
    }
  });

  it("denies an override requested by someone who may not override", () => {
    const r = checkDeploy(bad, DEFAULT_POLICY, { override: true, mayOverride: false });
    expect(r.allowed).toBe(false);
    expect(r.violations).toHaveLength(2);
    expect(r.overridden).toEqual([]);
  });

  it("allows an override by someone who may, reporting every violation as overridden", () => {
    const r = checkDeploy(bad, DEFAULT_POLICY, { override: true, mayOverride: true });
    expect(r.allowed).toBe(true);
    expect(r.violations).toHaveLength(2);
    expect(r.overridden).toEqual(r.violations);
  });
});

describe("PolicyDeniedError", () => {
  it("lists each rule label once, keeps the violations and its name", () => {
    const violations = evaluatePolicy(spec({ privileged: true, mounts: [bind("/"), bind("/etc")] }), DEFAULT_POLICY);
    const e = new PolicyDeniedError(violations);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("PolicyDeniedError");
    expect(e.message).toBe("Denied by the deploy policy: Allow privileged containers; Bind-mount path allowlist.");
    expect(e.violations).toBe(violations);
    expect(isPolicyDeniedError(e)).toBe(true);
    expect(isPolicyDeniedError(new Error("x"))).toBe(false);
  });
});
