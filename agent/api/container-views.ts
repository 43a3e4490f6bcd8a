import type { ContainerRecord } from "../engine/container-store";
import { wireStatus } from "../engine/status";

// Docker's JSON shapes for containers: the /containers/json list item and
// the inspect document. Only translation; the engine's record is the truth.

const ZERO_TIME = "0001-01-01T00:00:00Z";

function ago(iso: string): string {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds < 2) return "1 second";
  if (seconds < 60) return `${Math.floor(seconds)} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "About a minute" : `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours === 1 ? "About an hour" : `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}

/** Docker's human "Status" column: "Up 5 minutes", "Up 3 seconds (healthy)", "Exited (0) 2 seconds ago", "Created". */
export function humanStatus(c: ContainerRecord): string {
  const s = c.state;
  switch (s.status) {
    case "running":
      return s.health ? `Up ${ago(s.startedAt)} (${s.health.Status === "starting" ? "health: starting" : s.health.Status})` : `Up ${ago(s.startedAt)}`;
    case "paused":
      return `Up ${ago(s.startedAt)} (Paused)`;
    case "restarting":
      return `Restarting (${s.exitCode}) ${ago(s.finishedAt)} ago`;
    case "exited":
      return s.finishedAt === ZERO_TIME ? "Exited" : `Exited (${s.exitCode}) ${ago(s.finishedAt)} ago`;
    case "removing":
      return "Removal In Progress";
    case "dead":
      return "Dead";
    default:
      return "Created";
  }
}

/** Docker's Command column: the path, then the args, single-quoted when they hold a space. */
function command(c: ContainerRecord): string {
  return [c.path, ...c.args.map((a) => (a.includes(" ") ? `'${a}'` : a))].join(" ");
}

/** What the network manager knows of a running container: its addresses and published ports. */
export interface NetworkView {
  endpoints: {
    networkName: string;
    networkId: string;
    ip: string;
    prefix: number;
    gateway: string;
    mac: string;
    aliases: string[];
    endpointId: string;
    builtin: boolean;
    /** The names it answers to there (user-defined networks only). */
    dnsNames?: string[] | null;
    /** The address the container asked for (--ip). */
    ipv4Address?: string;
  }[];
  ports: { hostIp: string; hostPort: number; proto: string; containerPort: number }[];
}

export const NO_NETWORK: NetworkView = { endpoints: [], ports: [] };

function ports(c: ContainerRecord, net: NetworkView) {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  const published = new Set<string>();
  for (const p of net.ports) {
    out.push({ IP: p.hostIp || "0.0.0.0", PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto });
    published.add(`${p.containerPort}/${p.proto}`);
  }
  for (const key of Object.keys(c.config.ExposedPorts ?? {})) {
    const [port, proto = "tcp"] = key.split("/");
    if (!published.has(`${port}/${proto}`)) out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
}

function endpointView(e: NetworkView["endpoints"][number]) {
  return {
    IPAMConfig: e.ipv4Address ? { IPv4Address: e.ipv4Address } : null,
    Links: null,
    Aliases: e.aliases.length ? e.aliases : null,
    MacAddress: e.mac,
    NetworkID: e.networkId,
    EndpointID: e.endpointId,
    Gateway: e.gateway,
    IPAddress: e.ip,
    IPPrefixLen: e.prefix,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    DriverOpts: null,
    DNSNames: e.dnsNames?.length ? e.dnsNames : null,
  };
}

function networkSettings(c: ContainerRecord, net: NetworkView) {
  const portsMap: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of Object.keys(c.config.ExposedPorts ?? {})) portsMap[key.includes("/") ? key : `${key}/tcp`] = null;
  for (const p of net.ports) {
    const key = `${p.containerPort}/${p.proto}`;
    portsMap[key] = [...(portsMap[key] ?? []), { HostIp: p.hostIp || "0.0.0.0", HostPort: String(p.hostPort) }];
  }
  const primary = net.endpoints.find((e) => e.builtin);
  return {
    Bridge: "",
    SandboxID: "",
    Ports: portsMap,
    Networks: Object.fromEntries(net.endpoints.map((e) => [e.networkName, endpointView(e)])),
    IPAddress: primary?.ip ?? "",
    IPPrefixLen: primary?.prefix ?? 0,
    Gateway: primary?.gateway ?? "",
    MacAddress: primary?.mac ?? "",
  };
}

export function listItem(c: ContainerRecord, imageName: string, net: NetworkView = NO_NETWORK, mounts: unknown[] = []) {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: imageName,
    ImageID: c.imageId,
    Command: command(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: ports(c, net),
    Labels: c.config.Labels,
    State: wireStatus(c.state.status),
    Status: humanStatus(c),
    HostConfig: { NetworkMode: c.host.NetworkMode },
    NetworkSettings: { Networks: Object.fromEntries(net.endpoints.map((e) => [e.networkName, endpointView(e)])) },
    Mounts: mounts,
  };
}

export function inspectView(
  c: ContainerRecord,
  paths: { log: string; upper: string; work: string; rootfs: string; hostname: string; hosts: string; resolvConf: string },
  net: NetworkView = NO_NETWORK,
  mounts: unknown[] = [],
) {
  const s = c.state;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: wireStatus(s.status),
      Running: s.status === "running" || s.status === "paused",
      Paused: s.status === "paused",
      Restarting: s.status === "restarting",
      OOMKilled: s.oomKilled,
      Dead: s.status === "dead",
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
      // Only once the container has started with a health check, as dockerd shows it.
      ...(s.health ? { Health: { Status: s.health.Status, FailingStreak: s.health.FailingStreak, Log: s.health.Log } } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    LogPath: paths.log,
    Name: `/${c.name}`,
    RestartCount: s.restartCount,
    Driver: "overlay2",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: {
      ...c.host,
      Binds: c.host.Binds.length ? c.host.Binds : null,
      LogConfig: { Type: "k8s-file", Config: c.host.LogConfig.Config },
    },
    GraphDriver: { Name: "overlay2", Data: { UpperDir: paths.upper, WorkDir: paths.work, MergedDir: paths.rootfs } },
    Mounts: mounts,
    Config: c.config,
    NetworkSettings: networkSettings(c, net),
  };
}
