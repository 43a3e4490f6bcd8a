import { constants } from "node:os";
import { describe, expect, it } from "vitest";
import { EngineError } from "../../../agent/engine/errors";
import { hostSettingsFrom } from "../../../agent/engine/host-settings";
import { signalNumber } from "../../../agent/engine/signals";
import {
  canExec,
  canKill,
  canPause,
  canRemove,
  canStart,
  canUnpause,
  isActive,
  type Status,
  STATUSES,
  wireStatus,
} from "../../../agent/engine/status";

describe("status guards", () => {
  // One row per status: what each operation allows.
  const table: Record<Status, { start: boolean; kill: boolean; pause: boolean; unpause: boolean; exec: boolean; remove: boolean; forceRemove: boolean; active: boolean }> = {
    created: { start: true, kill: false, pause: false, unpause: false, exec: false, remove: true, forceRemove: true, active: false },
    running: { start: false, kill: true, pause: true, unpause: false, exec: true, remove: false, forceRemove: true, active: true },
    paused: { start: false, kill: true, pause: false, unpause: true, exec: false, remove: false, forceRemove: true, active: true },
    restarting: { start: false, kill: true, pause: false, unpause: false, exec: false, remove: false, forceRemove: true, active: true },
    exited: { start: true, kill: false, pause: false, unpause: false, exec: false, remove: true, forceRemove: true, active: false },
    removing: { start: false, kill: false, pause: false, unpause: false, exec: false, remove: false, forceRemove: false, active: false },
    dead: { start: false, kill: false, pause: false, unpause: false, exec: false, remove: true, forceRemove: true, active: false },
  };

  it("covers every status", () => {
    expect([...STATUSES].sort()).toEqual(Object.keys(table).sort());
  });

  for (const s of STATUSES) {
    it(`${s}`, () => {
      const want = table[s];
      expect({
        start: canStart(s),
        kill: canKill(s),
        pause: canPause(s),
        unpause: canUnpause(s),
        exec: canExec(s),
        remove: canRemove(s, false),
        forceRemove: canRemove(s, true),
        active: isActive(s),
      }).toEqual(want);
    });
  }

  it("wire status is Docker's word for every status", () => {
    for (const s of STATUSES) expect(wireStatus(s)).toBe(s);
  });
});

function signalError(input: string | number): EngineError {
  try {
    signalNumber(input);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error(`expected signalNumber(${JSON.stringify(input)}) to throw`);
}

describe("signalNumber", () => {
  it("accepts full names, short names, any case and surrounding spaces", () => {
    expect(signalNumber("SIGTERM")).toBe(15);
    expect(signalNumber("TERM")).toBe(15);
    expect(signalNumber("term")).toBe(15);
    expect(signalNumber("sigterm")).toBe(15);
    expect(signalNumber("KILL")).toBe(9);
    expect(signalNumber("SIGKILL")).toBe(9);
    expect(signalNumber("  hup ")).toBe(1);
    expect(signalNumber("INT")).toBe(2);
    expect(signalNumber("QUIT")).toBe(3);
    expect(signalNumber("SIGUSR1")).toBe(constants.signals.SIGUSR1);
    expect(signalNumber("WINCH")).toBe(constants.signals.SIGWINCH);
  });

  it("accepts numbers as strings (1..64) and as numbers", () => {
    expect(signalNumber("15")).toBe(15);
    expect(signalNumber("9")).toBe(9);
    expect(signalNumber("1")).toBe(1);
    expect(signalNumber("64")).toBe(64);
    expect(signalNumber(9)).toBe(9);
    expect(signalNumber(15)).toBe(15);
  });

  it("rejects unknown names with INVALID and the input in the message", () => {
    for (const bad of ["SIGFOO", "foo", "", "SIG", "TERM9", "-9", "1.5"]) {
      const e = signalError(bad);
      expect(e.code).toBe("INVALID");
      expect(e.message).toBe(`invalid signal: ${bad}`);
    }
  });

  it("rejects out-of-range numeric strings", () => {
    for (const bad of ["0", "65", "100"]) {
      const e = signalError(bad);
      expect(e.code).toBe("INVALID");
      expect(e.message).toBe(`invalid signal: ${bad}`);
    }
  });
});

describe("hostSettingsFrom", () => {
  const defaults = {
    Privileged: false,
    CapAdd: [],
    CapDrop: [],
    ReadonlyRootfs: false,
    SecurityOpt: [],
    Memory: 0,
    MemorySwap: 0,
    MemoryReservation: 0,
    NanoCpus: 0,
    CpuShares: 0,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpusetCpus: "",
    CpusetMems: "",
    PidsLimit: 0,
    ShmSize: 0,
    Ulimits: [],
    RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
    AutoRemove: false,
    NetworkMode: "default",
    Binds: [],
    PortBindings: {},
    Dns: [],
    DnsSearch: [],
    DnsOptions: [],
    ExtraHosts: [],
    ConsoleSize: [0, 0],
    LogConfig: { Type: "k8s-file", Config: {} },
    PublishAllPorts: false,
    Links: [],
    Tmpfs: {},
    Mounts: [],
  };

  it("gives the defaults for an empty HostConfig", () => {
    expect(hostSettingsFrom({})).toEqual(defaults);
  });

  it("treats nulls like missing fields", () => {
    const nulls = Object.fromEntries(Object.keys(defaults).map((k) => [k, null]));
    expect(hostSettingsFrom(nulls)).toEqual(defaults);
  });

  it("fills in a RestartPolicy with an empty name or null fields", () => {
    expect(hostSettingsFrom({ RestartPolicy: { Name: "", MaximumRetryCount: null } }).RestartPolicy).toEqual({ Name: "no", MaximumRetryCount: 0 });
    expect(hostSettingsFrom({ RestartPolicy: {} }).RestartPolicy).toEqual({ Name: "no", MaximumRetryCount: 0 });
    expect(hostSettingsFrom({ LogConfig: { Type: "", Config: null } }).LogConfig).toEqual({ Type: "k8s-file", Config: {} });
    expect(hostSettingsFrom({ NetworkMode: "" }).NetworkMode).toBe("default");
  });

  it("keeps the values it is given", () => {
    const given = {
      Privileged: true,
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["MKNOD"],
      ReadonlyRootfs: true,
      SecurityOpt: ["no-new-privileges"],
      Memory: 64 * 1024 * 1024,
      MemorySwap: 128 * 1024 * 1024,
      MemoryReservation: 32 * 1024 * 1024,
      NanoCpus: 1_500_000_000,
      CpuShares: 512,
      CpuPeriod: 100000,
      CpuQuota: 50000,
      CpusetCpus: "0-1",
      CpusetMems: "0",
      PidsLimit: 100,
      ShmSize: 1024 * 1024,
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      AutoRemove: true,
      NetworkMode: "host",
      Binds: ["/src:/dst:ro"],
      PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
      Dns: ["1.1.1.1"],
      DnsSearch: ["example.com"],
      DnsOptions: ["ndots:2"],
      ExtraHosts: ["db:10.0.0.2"],
      ConsoleSize: [24, 80],
      LogConfig: { Type: "json-file", Config: { "max-size": "10m" } },
      PublishAllPorts: true,
      Links: ["db:database"],
      Tmpfs: { "/run": "size=1m" },
      Mounts: [{ Type: "volume", Source: "data", Target: "/data" }],
    };
    expect(hostSettingsFrom(given)).toEqual(given);
  });

  it("drops values of the wrong type instead of keeping them", () => {
    const s = hostSettingsFrom({
      Privileged: "yes",
      CapAdd: ["NET_ADMIN", 7, null],
      Memory: "1g",
      CpuShares: Number.NaN,
      PidsLimit: Number.POSITIVE_INFINITY,
      CpusetCpus: 3,
      Binds: "not-a-list",
      ConsoleSize: [null, "80"],
      Ulimits: [{ Name: "nofile", Soft: "x" }],
    });
    expect(s.Privileged).toBe(false);
    expect(s.CapAdd).toEqual(["NET_ADMIN"]);
    expect(s.Memory).toBe(0);
    expect(s.CpuShares).toBe(0);
    expect(s.PidsLimit).toBe(0);
    expect(s.CpusetCpus).toBe("");
    expect(s.Binds).toEqual([]);
    expect(s.ConsoleSize).toEqual([0, 0]);
    expect(s.Ulimits).toEqual([{ Name: "nofile", Soft: 0, Hard: 0 }]);
  });
});
