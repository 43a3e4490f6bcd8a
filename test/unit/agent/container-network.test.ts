import { describe, expect, it } from "vitest";
import { hostsFile, portBindingsOf } from "../../../agent/engine/container-network";
import type { ContainerRecord, DockerConfig } from "../../../agent/engine/container-store";
import { hostSettingsFrom } from "../../../agent/engine/host-settings";

function record(hostConfig: Record<string, unknown>, exposed: Record<string, object> | null = null): ContainerRecord {
  const config: DockerConfig = {
    Hostname: "abc123",
    Domainname: "",
    User: "",
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    ExposedPorts: exposed,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [],
    Cmd: ["sh"],
    Image: "alpine",
    Volumes: null,
    WorkingDir: "",
    Entrypoint: null,
    Labels: {},
    StopSignal: "",
  };
  return {
    id: "abc123".padEnd(64, "0"),
    name: "web",
    created: "2024-01-01T00:00:00Z",
    imageId: "sha256:" + "1".repeat(64),
    imageChainId: "sha256:" + "2".repeat(64),
    path: "sh",
    args: [],
    config,
    host: hostSettingsFrom(hostConfig),
    state: {
      status: "created",
      pid: 0,
      exitCode: 0,
      error: "",
      oomKilled: false,
      startedAt: "",
      finishedAt: "",
      manuallyStopped: false,
      restartCount: 0,
      bootId: "",
    },
    networks: [],
    mounts: [],
  };
}

describe("hostsFile", () => {
  const standard = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"];

  it("writes the standard lines and the container's own address", () => {
    expect(hostsFile({ hostname: "abc123", ip: "172.30.0.2" }, [])).toBe([...standard, "172.30.0.2\tabc123"].join("\n") + "\n");
  });

  it("falls back to 127.0.1.1 without an address", () => {
    const lines = hostsFile({ hostname: "solo", ip: null }, []).split("\n");
    expect(lines[6]).toBe("127.0.1.1\tsolo");
    expect(lines).toHaveLength(8);
    expect(lines[7]).toBe("");
  });

  it("adds peers in order with de-duplicated names", () => {
    const text = hostsFile({ hostname: "me", ip: "10.0.0.2" }, [
      { ip: "10.0.0.3", names: ["db", "db", "postgres", "db"] },
      { ip: "10.0.0.4", names: ["cache"] },
    ]);
    const lines = text.trimEnd().split("\n");
    expect(lines.slice(0, 6)).toEqual(standard);
    expect(lines.slice(6)).toEqual(["10.0.0.2\tme", "10.0.0.3\tdb postgres", "10.0.0.4\tcache"]);
  });
});

describe("portBindingsOf", () => {
  it("returns nothing without port settings", () => {
    expect(portBindingsOf(record({}))).toEqual([]);
    expect(portBindingsOf(record({ PortBindings: null }))).toEqual([]);
  });

  it("maps PortBindings with their protocol", () => {
    const r = record({ PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }], "53/udp": [{ HostIp: "", HostPort: "" }] } });
    expect(portBindingsOf(r)).toEqual([
      { hostIp: "127.0.0.1", hostPort: "8080", containerPort: 80, proto: "tcp" },
      { hostIp: "", hostPort: "", containerPort: 53, proto: "udp" },
    ]);
  });

  it("defaults the protocol to tcp and missing fields to empty strings", () => {
    const r = record({ PortBindings: { "443": [{}] } });
    expect(portBindingsOf(r)).toEqual([{ hostIp: "", hostPort: "", containerPort: 443, proto: "tcp" }]);
  });

  it("keeps several bindings of one port", () => {
    const r = record({ PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }, { HostIp: "", HostPort: "8081" }] } });
    expect(portBindingsOf(r).map((b) => b.hostPort)).toEqual(["8080", "8081"]);
  });

  it("ignores exposed ports without PublishAllPorts", () => {
    expect(portBindingsOf(record({}, { "80/tcp": {} }))).toEqual([]);
  });

  it("publishes every exposed port not already bound on a random host port with PublishAllPorts", () => {
    const r = record({ PublishAllPorts: true, PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] } }, { "80/tcp": {}, "443/tcp": {}, "53/udp": {}, "80/udp": {} });
    expect(portBindingsOf(r)).toEqual([
      { hostIp: "", hostPort: "8080", containerPort: 80, proto: "tcp" },
      { hostIp: "", hostPort: "", containerPort: 443, proto: "tcp" },
      { hostIp: "", hostPort: "", containerPort: 53, proto: "udp" },
      { hostIp: "", hostPort: "", containerPort: 80, proto: "udp" },
    ]);
  });

  it("treats a port without protocol as tcp when matching bound against exposed ports", () => {
    const r = record({ PublishAllPorts: true, PortBindings: { "80": [{ HostIp: "", HostPort: "8080" }] } }, { "80/tcp": {} });
    expect(portBindingsOf(r)).toEqual([{ hostIp: "", hostPort: "8080", containerPort: 80, proto: "tcp" }]);
  });

  it("handles PublishAllPorts with no exposed ports", () => {
    expect(portBindingsOf(record({ PublishAllPorts: true }, null))).toEqual([]);
  });
});
