import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { humanStatus, inspectView, listItem } from "../../../agent/api/container-views";
import type { ContainerRecord, ContainerState } from "../../../agent/engine/container-store";
import { hostSettingsFrom } from "../../../agent/engine/host-settings";

const ZERO_TIME = "0001-01-01T00:00:00Z";
const NOW = Date.parse("2025-06-01T12:00:00.000Z");
const ID = "a".repeat(64);
const IMAGE_ID = "sha256:" + "b".repeat(64);

/** An ISO time `seconds` before NOW. */
const before = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

function record(state: Partial<ContainerState> = {}, over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id: ID,
    name: "web",
    created: "2025-06-01T11:00:00.000Z",
    imageId: IMAGE_ID,
    imageChainId: "sha256:" + "c".repeat(64),
    networks: [],
    mounts: [],
    path: "/docker-entrypoint.sh",
    args: ["nginx", "-g", "daemon off;"],
    config: {
      Hostname: "aaaaaaaaaaaa",
      Domainname: "",
      User: "",
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      ExposedPorts: { "80/tcp": {}, "53/udp": {} },
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: ["PATH=/usr/bin"],
      Cmd: ["nginx", "-g", "daemon off;"],
      Image: "nginx:latest",
      Volumes: null,
      WorkingDir: "",
      Entrypoint: ["/docker-entrypoint.sh"],
      Labels: { app: "web" },
      StopSignal: "SIGQUIT",
    },
    host: hostSettingsFrom({ NetworkMode: "bridge" }),
    state: {
      status: "created",
      pid: 0,
      exitCode: 0,
      error: "",
      oomKilled: false,
      startedAt: ZERO_TIME,
      finishedAt: ZERO_TIME,
      manuallyStopped: false,
      restartCount: 0,
      bootId: "boot-1",
      ...state,
    },
    ...over,
  };
}

const PATHS = {
  log: "/var/lib/berth/containers/x/ctr.log",
  upper: "/var/lib/berth/containers/x/upper",
  work: "/var/lib/berth/containers/x/work",
  rootfs: "/var/lib/berth/containers/x/rootfs",
  hostname: "/var/lib/berth/containers/x/hostname",
  hosts: "/var/lib/berth/containers/x/hosts",
  resolvConf: "/var/lib/berth/containers/x/resolv.conf",
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("humanStatus", () => {
  it("is Created for a container never started", () => {
    expect(humanStatus(record())).toBe("Created");
  });

  it("is Up <duration> for a running container", () => {
    const up = (seconds: number) => humanStatus(record({ status: "running", startedAt: before(seconds) }));
    expect(up(0)).toBe("Up Less than a second");
    expect(up(0.5)).toBe("Up Less than a second");
    expect(up(5)).toBe("Up 5 seconds");
    expect(up(59)).toBe("Up 59 seconds");
    expect(up(60)).toBe("Up About a minute");
    expect(up(119)).toBe("Up About a minute");
    expect(up(5 * 60)).toBe("Up 5 minutes");
    expect(up(3600)).toBe("Up About an hour");
    expect(up(3 * 3600)).toBe("Up 3 hours");
    expect(up(47 * 3600)).toBe("Up 47 hours");
    expect(up(3 * 86400)).toBe("Up 3 days");
  });

  it("never shows a negative duration for a start time in the future", () => {
    expect(humanStatus(record({ status: "running", startedAt: before(-30) }))).toBe("Up Less than a second");
  });

  it("adds (Paused) for a paused container", () => {
    expect(humanStatus(record({ status: "paused", startedAt: before(10 * 60) }))).toBe("Up 10 minutes (Paused)");
  });

  it("is Exited (code) <duration> ago for a stopped container", () => {
    expect(humanStatus(record({ status: "exited", exitCode: 0, startedAt: before(100), finishedAt: before(2) }))).toBe("Exited (0) 2 seconds ago");
    expect(humanStatus(record({ status: "exited", exitCode: 137, startedAt: before(9000), finishedAt: before(2 * 3600) }))).toBe("Exited (137) 2 hours ago");
  });

  it("is plain Exited when it never finished (no finish time)", () => {
    expect(humanStatus(record({ status: "exited", exitCode: 0, finishedAt: ZERO_TIME }))).toBe("Exited");
  });

  it("describes restarting, removing and dead", () => {
    expect(humanStatus(record({ status: "restarting", exitCode: 1, finishedAt: before(3) }))).toBe("Restarting (1) 3 seconds ago");
    expect(humanStatus(record({ status: "removing" }))).toBe("Removal In Progress");
    expect(humanStatus(record({ status: "dead" }))).toBe("Dead");
  });
});

describe("listItem", () => {
  it("builds Docker's /containers/json item", () => {
    const c = record({ status: "running", pid: 1234, startedAt: before(5 * 60) });
    const item = listItem(c, "nginx:latest");
    expect(item).toMatchObject({
      Id: ID,
      Names: ["/web"],
      Image: "nginx:latest",
      ImageID: IMAGE_ID,
      Created: Math.floor(Date.parse("2025-06-01T11:00:00.000Z") / 1000),
      Labels: { app: "web" },
      State: "running",
      Status: "Up 5 minutes",
      HostConfig: { NetworkMode: "bridge" },
      Mounts: [],
    });
    expect(item.Ports).toEqual(
      expect.arrayContaining([
        { PrivatePort: 80, Type: "tcp" },
        { PrivatePort: 53, Type: "udp" },
      ]),
    );
    expect(item.Ports).toHaveLength(2);
  });

  it("puts a leading slash on the name", () => {
    expect(listItem(record({}, { name: "my-db_1" }), "x").Names).toEqual(["/my-db_1"]);
  });

  it("quotes arguments containing whitespace in Command and leaves the others bare", () => {
    const cmd = listItem(record(), "nginx").Command;
    expect(cmd.startsWith("/docker-entrypoint.sh nginx -g ")).toBe(true);
    // The last argument, "daemon off;", is wrapped in quotes.
    expect(cmd.slice("/docker-entrypoint.sh nginx -g ".length)).toMatch(/^(["'])daemon off;\1$/);
  });

  it("joins path and args with single spaces when nothing needs quoting", () => {
    expect(listItem(record({}, { path: "sleep", args: ["infinity"] }), "busybox").Command).toBe("sleep infinity");
    expect(listItem(record({}, { path: "/bin/sh", args: [] }), "busybox").Command).toBe("/bin/sh");
  });

  it("has no ports without ExposedPorts and defaults the protocol to tcp", () => {
    const none = record();
    none.config.ExposedPorts = null;
    expect(listItem(none, "x").Ports).toEqual([]);
    const bare = record();
    bare.config.ExposedPorts = { "8080": {} };
    expect(listItem(bare, "x").Ports).toEqual([{ PrivatePort: 8080, Type: "tcp" }]);
  });

  it("shows the Status and State of stopped containers", () => {
    const item = listItem(record({ status: "exited", exitCode: 3, startedAt: before(600), finishedAt: before(60) }), "x");
    expect(item.State).toBe("exited");
    expect(item.Status).toBe("Exited (3) About a minute ago");
  });
});

describe("inspectView", () => {
  it("builds the inspect document for a running container", () => {
    const c = record({ status: "running", pid: 4321, startedAt: before(30), restartCount: 2 });
    const v = inspectView(c, PATHS);
    expect(v).toMatchObject({
      Id: ID,
      Created: "2025-06-01T11:00:00.000Z",
      Path: "/docker-entrypoint.sh",
      Args: ["nginx", "-g", "daemon off;"],
      Image: IMAGE_ID,
      Name: "/web",
      RestartCount: 2,
      LogPath: PATHS.log,
      HostsPath: PATHS.hosts,
      HostnamePath: PATHS.hostname,
      ResolvConfPath: PATHS.resolvConf,
      GraphDriver: { Name: "overlay2", Data: { UpperDir: PATHS.upper, WorkDir: PATHS.work, MergedDir: PATHS.rootfs } },
      Config: c.config,
    });
    expect(v.State).toEqual({
      Status: "running",
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 4321,
      ExitCode: 0,
      Error: "",
      StartedAt: before(30),
      FinishedAt: ZERO_TIME,
    });
  });

  it("reports a paused container as running and paused", () => {
    const s = inspectView(record({ status: "paused", pid: 1, startedAt: before(5) }), PATHS).State;
    expect([s.Status, s.Running, s.Paused]).toEqual(["paused", true, true]);
  });

  it("sets exactly the flags that match the status", () => {
    const flags = (status: ContainerState["status"]) => {
      const s = inspectView(record({ status }), PATHS).State;
      return { Running: s.Running, Paused: s.Paused, Restarting: s.Restarting, Dead: s.Dead };
    };
    expect(flags("created")).toEqual({ Running: false, Paused: false, Restarting: false, Dead: false });
    expect(flags("exited")).toEqual({ Running: false, Paused: false, Restarting: false, Dead: false });
    expect(flags("restarting")).toEqual({ Running: false, Paused: false, Restarting: true, Dead: false });
    expect(flags("dead")).toEqual({ Running: false, Paused: false, Restarting: false, Dead: true });
    expect(flags("removing")).toEqual({ Running: false, Paused: false, Restarting: false, Dead: false });
  });

  it("carries exit code, error and OOM of a stopped container", () => {
    const s = inspectView(record({ status: "exited", exitCode: 137, oomKilled: true, error: "oom", finishedAt: before(1) }), PATHS).State;
    expect(s).toMatchObject({ Status: "exited", Running: false, ExitCode: 137, OOMKilled: true, Error: "oom", FinishedAt: before(1) });
  });

  it("shows Binds as null when there are none and keeps them otherwise", () => {
    expect(inspectView(record(), PATHS).HostConfig.Binds).toBeNull();
    const withBinds = record({}, { host: hostSettingsFrom({ Binds: ["/a:/b"] }) });
    expect(inspectView(withBinds, PATHS).HostConfig.Binds).toEqual(["/a:/b"]);
  });

  it("passes the host settings through with the k8s-file log driver", () => {
    const c = record({}, { host: hostSettingsFrom({ Memory: 1024, RestartPolicy: { Name: "always" }, LogConfig: { Type: "json-file", Config: { "max-size": "1m" } } }) });
    const hc = inspectView(c, PATHS).HostConfig;
    expect(hc.Memory).toBe(1024);
    expect(hc.RestartPolicy).toEqual({ Name: "always", MaximumRetryCount: 0 });
    expect(hc.LogConfig).toEqual({ Type: "k8s-file", Config: { "max-size": "1m" } });
  });
});
