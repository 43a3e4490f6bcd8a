import { describe, expect, it } from "vitest";
import {
  CreateRequestError,
  parseCreateRequest,
  parseSignal,
  validateContainerName,
} from "../../../lib/docker/create-request";

/** Roughly what docker CLI 28.2.2 sends for `docker run -d --name N -p 8080:80 -e K=V -v vol:/p -m 64m --cpus 0.5 --restart unless-stopped nginx`. */
function cliBody(overrides: { HostConfig?: Record<string, unknown> } & Record<string, unknown> = {}) {
  const { HostConfig, ...config } = overrides;
  return {
    Hostname: "",
    Domainname: "",
    User: "",
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: { "80/tcp": {} },
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: ["K=V"],
    Cmd: null,
    Image: "nginx",
    Volumes: null,
    WorkingDir: "",
    Entrypoint: null,
    OnBuild: null,
    Labels: {},
    HostConfig: {
      Binds: ["vol:/p"],
      ContainerIDFile: "",
      LogConfig: { Type: "", Config: {} },
      NetworkMode: "default",
      PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
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
      Memory: 67108864,
      NanoCpus: 500000000,
      CgroupParent: "",
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      CpuPeriod: 0,
      CpuQuota: 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: "",
      CpusetMems: "",
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: null,
      PidsLimit: null,
      Ulimits: [],
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      MaskedPaths: null,
      ReadonlyPaths: null,
      Init: null,
      ...HostConfig,
    },
    NetworkingConfig: { EndpointsConfig: { default: { IPAMConfig: null, Links: null, Aliases: null, MacAddress: "", DriverOpts: null, GwPriority: 0, NetworkID: "", EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, IPv6Gateway: "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0, DNSNames: null } } },
    ...config,
  };
}

function errorOf(fn: () => unknown): CreateRequestError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CreateRequestError);
    expect((err as CreateRequestError).code).toBe("INVALID");
    return err as CreateRequestError;
  }
  throw new Error("expected a CreateRequestError");
}

describe("parseCreateRequest", () => {
  it("accepts the CLI's body, nulls included, and drops the nulls", () => {
    const req = parseCreateRequest(cliBody());
    expect(req.Image).toBe("nginx");
    expect(req.Env).toEqual(["K=V"]);
    expect(req.ExposedPorts).toEqual({ "80/tcp": {} });
    expect(req.Cmd).toBeUndefined();
    expect(req.Entrypoint).toBeUndefined();
    expect("Cmd" in req).toBe(false);
    expect(req.HostConfig?.Memory).toBe(67108864);
    expect(req.HostConfig?.NanoCpus).toBe(500000000);
    expect(req.HostConfig?.PortBindings).toEqual({ "80/tcp": [{ HostIp: "", HostPort: "8080" }] });
    expect(req.HostConfig?.RestartPolicy).toEqual({ Name: "unless-stopped", MaximumRetryCount: 0 });
    expect(req.HostConfig?.ConsoleSize).toEqual([0, 0]);
    expect(req.HostConfig?.PidsLimit).toBeUndefined();
    expect(req.NetworkingConfig?.EndpointsConfig?.default?.Aliases).toBeUndefined();
  });

  it("strips unknown fields at every level", () => {
    const req = parseCreateRequest(cliBody({ Bogus: 1, HostConfig: { FutureThing: { a: 1 } } }));
    expect("Bogus" in req).toBe(false);
    expect("FutureThing" in (req.HostConfig ?? {})).toBe(false);
  });

  it("accepts a minimal body and one without HostConfig", () => {
    expect(parseCreateRequest({ Image: "alpine" })).toEqual({ Image: "alpine" });
    expect(parseCreateRequest({ Image: "alpine", HostConfig: null }).HostConfig).toBeUndefined();
  });

  it("takes Cmd / Entrypoint as a single string too (Go's StrSlice)", () => {
    const req = parseCreateRequest({ Image: "a", Cmd: "echo hi", Entrypoint: "" });
    expect(req.Cmd).toEqual(["echo hi"]);
    expect(req.Entrypoint).toEqual([""]);
  });

  it("keeps ExposedPorts / Volumes keys whose value is null", () => {
    const req = parseCreateRequest({ Image: "a", ExposedPorts: { "53/udp": null }, Volumes: { "/data": null } });
    expect(req.ExposedPorts).toEqual({ "53/udp": {} });
    expect(req.Volumes).toEqual({ "/data": {} });
  });

  it("normalises an empty restart policy name to 'no'", () => {
    const req = parseCreateRequest(cliBody({ HostConfig: { RestartPolicy: { Name: "", MaximumRetryCount: 0 } } }));
    expect(req.HostConfig?.RestartPolicy?.Name).toBe("no");
    const bare = parseCreateRequest({ Image: "a", HostConfig: {} });
    expect(bare.HostConfig?.RestartPolicy).toEqual({ Name: "no" });
  });

  it.each([
    [{ Memory: "64m" }, "invalid HostConfig.Memory: expected a number"],
    [{ Memory: 1.5 }, "invalid HostConfig.Memory: expected an integer"],
    [{ Privileged: "yes" }, "invalid HostConfig.Privileged: expected a boolean"],
    [{ Binds: "vol:/p" }, "invalid HostConfig.Binds: expected an array"],
    [{ Binds: [1] }, "invalid HostConfig.Binds[0]: expected a string"],
    [{ PortBindings: { "80/tcp": [{ HostPort: 8080 }] } }, 'invalid HostConfig.PortBindings["80/tcp"][0].HostPort: expected a string'],
    [{ Ulimits: [{ Name: "nofile", Soft: 1 }] }, "invalid HostConfig.Ulimits[0].Hard: expected a number"],
    [{ ConsoleSize: [24] }, "invalid HostConfig.ConsoleSize: expected at least 2 items"],
  ])("names the malformed field: %j", (hostConfig, message) => {
    expect(errorOf(() => parseCreateRequest(cliBody({ HostConfig: hostConfig }))).message).toBe(message);
  });

  it("names malformed top-level and nested config fields", () => {
    expect(errorOf(() => parseCreateRequest({ Image: 5 })).message).toBe("invalid Image: expected a string");
    expect(errorOf(() => parseCreateRequest({ Env: ["A=1", 2] })).message).toBe("invalid Env[1]: expected a string");
    expect(errorOf(() => parseCreateRequest({ Labels: { a: 1 } })).message).toBe("invalid Labels.a: expected a string");
    expect(errorOf(() => parseCreateRequest([])).message).toBe("invalid body: expected a JSON object");
    expect(errorOf(() => parseCreateRequest(null)).message).toBe("invalid body: expected a JSON object");
  });

  describe("restart policy (moby v28 ValidateRestartPolicy)", () => {
    const withPolicy = (Name: string, MaximumRetryCount = 0) =>
      parseCreateRequest(cliBody({ HostConfig: { RestartPolicy: { Name, MaximumRetryCount } } }));

    it.each(["no", "always", "unless-stopped", "on-failure"])("accepts %s", (name) => {
      expect(withPolicy(name).HostConfig?.RestartPolicy?.Name).toBe(name);
    });
    it("accepts a retry count with on-failure", () => {
      expect(withPolicy("on-failure", 3).HostConfig?.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 3 });
    });
    it("refuses a retry count with another policy", () => {
      expect(errorOf(() => withPolicy("always", 2)).message).toBe(
        "invalid restart policy: maximum retry count can only be used with 'on-failure'",
      );
      expect(errorOf(() => withPolicy("unless-stopped", -1)).message).toBe(
        "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative",
      );
      // "" is normalised to "no" first, as dockerd does.
      expect(errorOf(() => withPolicy("", 2)).message).toBe(
        "invalid restart policy: maximum retry count can only be used with 'on-failure'",
      );
    });
    it("refuses a negative retry count and unknown names", () => {
      expect(errorOf(() => withPolicy("on-failure", -2)).message).toBe(
        "invalid restart policy: maximum retry count cannot be negative",
      );
      expect(errorOf(() => withPolicy("sometimes")).message).toBe(
        "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
      );
    });
    it("refuses AutoRemove with a restart policy", () => {
      const body = cliBody({ HostConfig: { AutoRemove: true, RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } });
      expect(errorOf(() => parseCreateRequest(body)).message).toBe("can't create 'AutoRemove' container with restart policy");
      const ok = cliBody({ HostConfig: { AutoRemove: true, RestartPolicy: { Name: "no", MaximumRetryCount: 0 } } });
      expect(parseCreateRequest(ok).HostConfig?.AutoRemove).toBe(true);
    });
  });

  describe("resource checks (verifyPlatformContainerResources)", () => {
    it.each([
      [{ Memory: -1 }, "Minimum memory limit allowed is 6MB"],
      [{ Memory: 1024 }, "Minimum memory limit allowed is 6MB"],
      [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, "Minimum memoryswap limit should be larger than memory limit, see usage"],
      [{ Memory: 0, MemorySwap: 64 << 20 }, "You should always set the Memory limit when using Memoryswap limit, see usage"],
      [{ MemoryReservation: 1024 }, "Minimum memory reservation allowed is 6MB"],
      [{ Memory: 64 << 20, MemoryReservation: 128 << 20 }, "Minimum memory limit can not be less than memory reservation limit, see usage"],
      [{ MemorySwappiness: 101 }, "Invalid value: 101, valid memory swappiness range is 0-100"],
      [{ NanoCpus: 1e9, CpuPeriod: 100000 }, "Conflicting options: Nano CPUs and CPU Period cannot both be set"],
      [{ NanoCpus: 1e9, CpuQuota: 50000 }, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"],
      [{ NanoCpus: -1 }, "invalid HostConfig.NanoCpus: must be >= 0"],
      [{ NanoCpus: 0, CpuPeriod: 10 }, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"],
      [{ NanoCpus: 0, CpuQuota: 10 }, "CPU cfs quota can not be less than 1ms (i.e. 1000)"],
      [{ CpusetCpus: "1-42,," }, "Invalid value 1-42,, for cpuset cpus"],
      [{ CpusetMems: "x" }, "Invalid value x for cpuset mems"],
      [{ BlkioWeight: 5 }, "Range of blkio weight is from 10 to 1000"],
      [{ ShmSize: -1 }, "SHM size can not be less than 0"],
      [{ OomScoreAdj: 1001 }, "Invalid value 1001, range for oom score adj is [-1000, 1000]"],
      [{ CapAdd: ["CAP_BOGUS"] }, 'invalid CapAdd: unknown capability: "CAP_BOGUS"'],
      [{ Ulimits: [{ Name: "nofile", Soft: 10, Hard: 5 }] }, "ulimit soft limit must be less than or equal to hard limit: 10 > 5"],
      [{ Ulimits: [{ Name: "bogus", Soft: 1, Hard: 1 }] }, "invalid ulimit type: bogus"],
      [{ PortBindings: { "abc/tcp": [] } }, 'invalid port specification: "abc"'],
      [{ PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "99999" }] } }, 'invalid port specification: "99999"'],
      [{ Tmpfs: { run: "" } }, "invalid mount path: 'run' mount path must be absolute"],
    ])("%j -> %s", (hostConfig, message) => {
      expect(errorOf(() => parseCreateRequest(cliBody({ HostConfig: hostConfig }))).message).toBe(message);
    });

    it("accepts the usual limits", () => {
      const req = parseCreateRequest(
        cliBody({
          HostConfig: {
            Memory: 64 << 20,
            MemorySwap: -1,
            MemoryReservation: 32 << 20,
            MemorySwappiness: -1,
            NanoCpus: 0,
            CpuPeriod: 100000,
            CpuQuota: 50000,
            CpuShares: 512,
            CpusetCpus: "0-1,3",
            PidsLimit: -1,
            CapAdd: ["NET_ADMIN", "cap_sys_time", "ALL"],
            CapDrop: ["CAP_CHOWN"],
            Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
            Tmpfs: { "/run": "rw,size=64m" },
            PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8000-8010" }], "53/udp": [{ HostIp: "", HostPort: "" }] },
          },
        }),
      );
      expect(req.HostConfig?.CpuQuota).toBe(50000);
      expect(req.HostConfig?.Ulimits).toEqual([{ Name: "nofile", Soft: 1024, Hard: 2048 }]);
    });

    it("checks NanoCpus against the host CPU count when given", () => {
      const body = cliBody({ HostConfig: { NanoCpus: 8e9 } });
      expect(parseCreateRequest(body).HostConfig?.NanoCpus).toBe(8e9);
      expect(errorOf(() => parseCreateRequest(body, { numCpus: 4 })).message).toBe(
        "range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available",
      );
    });
  });

  describe("config checks (verifyContainerSettings)", () => {
    it("refuses a relative working directory", () => {
      expect(errorOf(() => parseCreateRequest({ Image: "a", WorkingDir: "app" })).message).toBe(
        "the working directory 'app' is invalid, it needs to be an absolute path",
      );
    });
    it("refuses an env entry without a name, allows one without a value", () => {
      expect(errorOf(() => parseCreateRequest({ Image: "a", Env: ["=foo"] })).message).toBe("invalid environment variable: =foo");
      expect(parseCreateRequest({ Image: "a", Env: ["FOO", "A=b=c"] }).Env).toEqual(["FOO", "A=b=c"]);
    });
    it("validates the stop signal", () => {
      expect(parseCreateRequest({ Image: "a", StopSignal: "SIGQUIT" }).StopSignal).toBe("SIGQUIT");
      expect(errorOf(() => parseCreateRequest({ Image: "a", StopSignal: "SIGBOGUS" })).message).toBe("Invalid signal: SIGBOGUS");
    });
    it("validates healthcheck durations", () => {
      const hc = (h: Record<string, number>) => parseCreateRequest({ Image: "a", Healthcheck: { Test: ["CMD", "true"], ...h } });
      expect(hc({ Interval: 1e9, Retries: 3 }).Healthcheck?.Interval).toBe(1e9);
      expect(errorOf(() => hc({ Interval: 500_000 })).message).toBe("Interval in Healthcheck cannot be less than 1ms");
      expect(errorOf(() => hc({ Timeout: -1 })).message).toBe("Timeout in Healthcheck cannot be less than 1ms");
      expect(errorOf(() => hc({ Retries: -1 })).message).toBe("Retries in Healthcheck cannot be negative");
      expect(errorOf(() => hc({ StartPeriod: 5 })).message).toBe("StartPeriod in Healthcheck cannot be less than 1ms");
    });
    it("validates exposed port keys", () => {
      expect(parseCreateRequest({ Image: "a", ExposedPorts: { "80": {}, "7000-7010/udp": {} } }).ExposedPorts).toEqual({
        "80": {},
        "7000-7010/udp": {},
      });
      expect(errorOf(() => parseCreateRequest({ Image: "a", ExposedPorts: { "http/tcp": {} } })).message).toBe(
        'invalid port specification: "http/tcp"',
      );
    });
    it("refuses a null endpoint config like dockerd", () => {
      const body = { Image: "a", NetworkingConfig: { EndpointsConfig: { mynet: null } } };
      expect(errorOf(() => parseCreateRequest(body)).message).toBe("invalid config for network mynet: EndpointsConfig is nil");
    });
  });

  describe("mounts", () => {
    const withMounts = (Mounts: unknown[]) => parseCreateRequest(cliBody({ HostConfig: { Mounts } }));
    it("accepts bind, volume and tmpfs mounts", () => {
      const req = withMounts([
        { Type: "bind", Source: "/srv", Target: "/srv", ReadOnly: true, BindOptions: { Propagation: "rprivate" } },
        { Type: "volume", Source: "data", Target: "/data", VolumeOptions: { NoCopy: true, Labels: null } },
        { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } },
      ]);
      expect(req.HostConfig?.Mounts).toHaveLength(3);
      expect(req.HostConfig?.Mounts?.[1]).toEqual({ Type: "volume", Source: "data", Target: "/data", VolumeOptions: { NoCopy: true } });
    });
    it.each([
      [{ Type: "weird", Target: "/x" }, 'invalid mount config for type "weird": mount type unknown'],
      [{ Type: "bind", Source: "/x" }, 'invalid mount config for type "bind": field Target must not be empty'],
      [{ Type: "bind", Source: "/x", Target: "x" }, "invalid mount config for type \"bind\": invalid mount path: 'x' mount path must be absolute"],
      [{ Type: "bind", Target: "/x" }, 'invalid mount config for type "bind": field Source must not be empty'],
      [{ Type: "tmpfs", Source: "a", Target: "/x" }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
    ])("%j -> %s", (mount, message) => {
      expect(errorOf(() => withMounts([mount])).message).toBe(message);
    });
  });
});

describe("validateContainerName", () => {
  it.each(["web", "/web", "my_app.1-x", "a1", "00"])("accepts %s", (name) => {
    expect(validateContainerName(name)).toBe(name.startsWith("/") ? name : `/${name}`);
  });
  it.each(["a", "", "/", "-web", "_web", ".web", "web app", "wéb", "a/b", "//ab"])("refuses %j", (name) => {
    expect(errorOf(() => validateContainerName(name)).message).toBe(
      `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  });
});

describe("parseSignal", () => {
  it.each([
    ["SIGTERM", 15],
    ["term", 15],
    ["KILL", 9],
    ["9", 9],
    ["SIGRTMIN", 34],
    ["RTMIN+3", 37],
    ["SIGRTMAX-1", 63],
    ["RTMAX", 64],
  ])("%s -> %d", (raw, n) => {
    expect(parseSignal(raw)).toBe(n);
  });
  it.each(["0", "-1", "SIGFOO", "RTMIN+16", "RTMAX+1", ""])("refuses %j", (raw) => {
    expect(errorOf(() => parseSignal(raw)).message).toBe(`Invalid signal: ${raw}`);
  });
});
