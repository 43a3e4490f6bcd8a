import { describe, expect, it } from "vitest";
import { createBodyToSpec, cpusOf } from "../../../server/docker-proxy/create-spec";
import { toCreateBody } from "../../../lib/deploy/create-body";
import { deploySpecSchema } from "../../../lib/deploy/spec";
import { checkDeploy } from "../../../lib/policy/check";
import { DEFAULT_POLICY, deployPolicySchema } from "../../../lib/policy/rules";

/** Roughly what docker CLI 28 sends for `docker run` (nulls for what wasn't set). */
function cliBody(hostConfig: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return {
    Hostname: "",
    Domainname: "",
    User: "",
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: ["echo", "hi"],
    Image: "127.0.0.1:5000/test/tools:latest",
    Volumes: {},
    WorkingDir: "",
    Entrypoint: null,
    OnBuild: null,
    Labels: {},
    ...config,
    HostConfig: {
      Binds: null,
      ContainerIDFile: "",
      LogConfig: { Type: "", Config: {} },
      NetworkMode: "default",
      PortBindings: {},
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
      AutoRemove: false,
      VolumeDriver: "",
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: null,
      CapDrop: null,
      CgroupnsMode: "",
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: "",
      Cgroup: "",
      Links: null,
      OomScoreAdj: 0,
      PidMode: "",
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      UTSMode: "",
      UsernsMode: "",
      ShmSize: 0,
      Isolation: "",
      CpuShares: 0,
      Memory: 0,
      NanoCpus: 0,
      CgroupParent: "",
      BlkioWeight: 0,
      CpuPeriod: 0,
      CpuQuota: 0,
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: null,
      PidsLimit: null,
      Ulimits: null,
      MaskedPaths: null,
      ReadonlyPaths: null,
      ...hostConfig,
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };
}

describe("create body → DeploySpec", () => {
  it("a plain run is a plain spec the default policy allows", () => {
    const t = createBodyToSpec(cliBody(), "web");
    expect(t.spec).toMatchObject({ image: "127.0.0.1:5000/test/tools:latest", name: "web", command: ["echo", "hi"], privileged: false, mounts: [], devices: [], capAdd: [] });
    expect(checkDeploy(t.spec, DEFAULT_POLICY, { override: false, mayOverride: false }).allowed).toBe(true);
    expect(t.extraViolations(DEFAULT_POLICY)).toEqual([]);
  });

  it("translates everything the policy judges", () => {
    const t = createBodyToSpec(
      cliBody(
        {
          Privileged: true,
          CapAdd: ["NET_ADMIN", "CAP_SYS_TIME"],
          CapDrop: ["MKNOD"],
          Binds: ["/srv/data:/data:ro", "vol:/p", "/var/run/../../etc:/e"],
          Mounts: [{ Type: "bind", Source: "/opt/x", Target: "/x" }, { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576 } }],
          Tmpfs: { "/run": "size=64m,mode=1777" },
          Devices: [{ PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" }],
          NetworkMode: "host",
          PidMode: "host",
          IpcMode: "host",
          Memory: 67108864,
          NanoCpus: 500000000,
          PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
          RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
        },
        { Env: ["K=V", "EMPTY="], ExposedPorts: { "80/tcp": {} } },
      ),
      "/web",
    );
    expect(t.spec).toMatchObject({
      name: "web",
      privileged: true,
      capAdd: ["NET_ADMIN", "CAP_SYS_TIME"],
      capDrop: ["MKNOD"],
      network: "host",
      pidMode: "host",
      ipcMode: "host",
      memoryBytes: 67108864,
      cpus: 0.5,
      env: [
        { name: "K", value: "V", secret: false },
        { name: "EMPTY", value: "", secret: false },
      ],
      ports: [{ containerPort: 80, hostPort: 8080, protocol: "tcp" }],
      restartPolicy: { name: "unless-stopped" },
      devices: [{ hostPath: "/dev/fuse", permissions: "rwm" }],
    });
    expect(t.spec.mounts).toEqual([
      { type: "bind", source: "/srv/data", target: "/data", readOnly: true },
      { type: "volume", source: "vol", target: "/p", readOnly: false },
      // Normalised as the agent mounts it: the policy judges /etc, not the spelling.
      { type: "bind", source: "/etc", target: "/e", readOnly: false },
      { type: "bind", source: "/opt/x", target: "/x", readOnly: false },
      { type: "tmpfs", target: "/t", sizeBytes: 1048576 },
      { type: "tmpfs", target: "/run", sizeBytes: 64 * 1024 * 1024 },
    ]);
    const result = checkDeploy(t.spec, DEFAULT_POLICY, { override: false, mayOverride: false });
    expect(result.allowed).toBe(false);
    expect(new Set(result.violations.map((v) => v.rule))).toEqual(new Set(["allowPrivileged", "allowedCapabilities", "allowHostNamespaces", "bindMountAllowlist", "allowDevices"]));
    expect(t.summary).toMatchObject({ image: "127.0.0.1:5000/test/tools:latest", name: "web", privileged: true, networkMode: "host", capAdd: ["NET_ADMIN", "CAP_SYS_TIME"], ports: ["8080:80/tcp"] });
  });

  it("CPU limits from NanoCpus or a CFS quota; registry from the image", () => {
    expect(cpusOf({ NanoCpus: 1_500_000_000 })).toBe(1.5);
    expect(cpusOf({ CpuQuota: 50_000 })).toBe(0.5);
    expect(cpusOf({ CpuQuota: 20_000, CpuPeriod: 10_000 })).toBe(2);
    expect(cpusOf({})).toBeUndefined();
    const policy = deployPolicySchema.parse({ maxCpus: 1, registryAllowlist: ["registry.example.com"] });
    const t = createBodyToSpec(cliBody({ CpuQuota: 200_000 }), null);
    const rules = checkDeploy(t.spec, policy, { override: false, mayOverride: false }).violations.map((v) => v.rule);
    expect(rules.sort()).toEqual(["maxCpus", "registryAllowlist"]);
  });

  it("settings outside DeploySpec that weaken isolation are violations of the matching rule", () => {
    const t = createBodyToSpec(
      cliBody({ SecurityOpt: ["seccomp=unconfined", "no-new-privileges"], UTSMode: "host", UsernsMode: "host", DeviceCgroupRules: ["c 1:3 rwm"] }),
      null,
    );
    expect(t.extraViolations(DEFAULT_POLICY).map((v) => v.rule)).toEqual(["allowPrivileged", "allowHostNamespaces", "allowHostNamespaces", "allowDevices"]);
    expect(t.extraViolations({ allowPrivileged: true, allowHostNamespaces: true, allowDevices: true })).toEqual([]);
  });

  it.each([
    [{ CgroupParent: "/" }, /CgroupParent/],
    [{ Runtime: "runsc" }, /Runtime/],
    [{ MaskedPaths: [] }, /MaskedPaths/],
    [{ Sysctls: { "kernel.shmmax": "1" } }, /Sysctls/],
    [{ PidMode: "container:abc" }, /sharing another container/],
    [{ OomScoreAdj: -1000 }, /OomScoreAdj/],
  ])("refuses what the policy can't judge: %j", (hc, message) => {
    expect(() => createBodyToSpec(cliBody(hc), null)).toThrow(message);
  });

  it("takes --volumes-from as dockerd reads it, to be judged once the host is asked; a malformed entry is refused", () => {
    expect(createBodyToSpec(cliBody({ VolumesFrom: ["data", "logs:ro", "cache:rw"] }), null).volumesFrom).toEqual([
      { container: "data", mode: "" },
      { container: "logs", mode: "ro" },
      { container: "cache", mode: "rw" },
    ]);
    expect(() => createBodyToSpec(cliBody({ VolumesFrom: ["data:z"] }), null)).toThrow(/invalid VolumesFrom entry "data:z"/);
    expect(() => createBodyToSpec(cliBody({ VolumesFrom: ["a:ro:rw"] }), null)).toThrow(/invalid VolumesFrom entry/);
  });

  it.each([
    [null, /expected a JSON object/],
    [[], /expected a JSON object/],
    [{ Cmd: ["x"] }, /Image is required/],
    [{ Image: "x", HostConfig: { Privileged: "yes" } }, /HostConfig\.Privileged/],
    [{ Image: "x", HostConfig: { privileged: true } }, /use Privileged/],
    [{ image: "x" }, /use Image/],
    [{ Image: "x", HostConfig: { Binds: ["a:b:c:d"] } }, /invalid volume specification/],
    [{ Image: "x", HostConfig: { Mounts: [{ Type: "bind", Source: "rel", Target: "/x" }] } }, /must be absolute/],
    [{ Image: "Not A Valid Ref!!" }, /invalid image/],
  ])("refuses a malformed body: %j", (body, message) => {
    expect(() => createBodyToSpec(body, null)).toThrow(message);
  });

  it("is the inverse of toCreateBody for what the policy judges", () => {
    const spec = deploySpecSchema.parse({
      image: "registry.example.com/team/app:1",
      name: "app",
      command: ["serve"],
      env: [{ name: "A", value: "1" }],
      ports: [{ containerPort: 80, hostPort: 8080 }],
      mounts: [
        { type: "bind", source: "/srv/app", target: "/data", readOnly: true },
        { type: "volume", source: "cache", target: "/cache" },
        { type: "tmpfs", target: "/tmp", sizeBytes: 1048576 },
      ],
      memoryBytes: 64 * 1024 * 1024,
      cpus: 0.5,
      privileged: true,
      capAdd: ["NET_ADMIN"],
      network: "host",
      pidMode: "host",
      ipcMode: "host",
      devices: [{ hostPath: "/dev/fuse" }],
      restartPolicy: { name: "always" },
    });
    const back = createBodyToSpec(toCreateBody(spec), "app").spec;
    for (const key of ["image", "name", "command", "env", "ports", "mounts", "memoryBytes", "cpus", "privileged", "capAdd", "network", "pidMode", "ipcMode", "devices", "restartPolicy"] as const) {
      expect(back[key], key).toEqual(spec[key]);
    }
  });
});
