import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { AgentError } from "../errors";
import { writeFileAtomic } from "../state/atomic-write";
import { ipBatch, NetworkToolError, tool } from "./exec";
import { claimOverlapping, type HostClaim, readHostClaims } from "./host-routes";
import { buildRuleset, deleteTableScript, type PortRule, tableName } from "./ruleset";
import { contains, gatewayOf, ipToNumber, numberToIp, overlaps, parseSubnet, size } from "./subnet";

// Bridge networks: the default one (Docker's "bridge", our berth0) and
// user-defined ones. Each is a Linux bridge with its own subnet; a running
// container gets one veth per network, its end moved into the container's
// network namespace. NAT, published ports and isolation are rules in our own
// nftables table, regenerated from this state on every change. The state
// (networks, the running containers' addresses and ports) lives in
// ROOT/networks.json, so a restarted agent knows what it set up.

export class NetworkError extends AgentError<"INVALID" | "NOT_FOUND" | "CONFLICT" | "FORBIDDEN"> {
  override name = "NetworkError";
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: "bridge";
  subnet: string;
  gateway: string;
  bridge: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  created: string;
  /** The default network: can't be removed. */
  builtin: boolean;
  /** The subnet was given at create (--subnet): only then may containers ask for their own address (--ip). */
  userSubnet?: boolean;
}

export interface Endpoint {
  networkId: string;
  ip: string;
  prefix: number;
  gateway: string;
  hostVeth: string;
  iface: string;
  aliases: string[];
  mac: string;
  /** The container's default route goes out here (its first non-internal network). */
  defaultRoute?: boolean;
}

/** One network a container joins: the network (name or id), its aliases there, and the address it asked for (--ip). */
export interface EndpointRequest {
  network: string;
  aliases: string[];
  ipv4Address?: string;
}

export interface PortBinding {
  hostIp: string;
  /** "" or "0" = pick a free port. */
  hostPort: string;
  containerPort: number;
  proto: "tcp" | "udp";
}

interface State {
  networks: NetworkRecord[];
  endpoints: Record<string, Endpoint[]>;
  ports: Record<string, PortRule[]>;
}

export interface NetworkOptions {
  root: string;
  /** Default bridge interface, e.g. berth0. */
  bridge: string;
  /** Default bridge subnet, e.g. 172.29.0.0/16. */
  subnet: string;
  /** Where user networks without a subnet get theirs: /24s of this range. */
  pool: string;
  /** Told of each network created and removed (the agent's event log: docker events). */
  onEvent?: (action: "create" | "destroy", network: NetworkRecord) => void;
  /** The resolver answering on each user-defined network's gateway (dns-server.ts). */
  dns?: GatewayDns;
}

/** A DNS service on networks' gateways; serve() is false when it can't answer there. */
export interface GatewayDns {
  serve(networkId: string, gateway: string): Promise<boolean>;
  stop(networkId: string): void;
  serving(networkId: string): boolean;
}

/**
 * The veth pair of an endpoint, its host end on the bridge and up, in one `ip` process. A host end left by a crash
 * (the name is derived from the container and network) is deleted and the pair made again.
 */
async function addVeth(hostVeth: string, iface: string, pid: number, bridge: string): Promise<void> {
  const commands = [`link add ${hostVeth} type veth peer name ${iface} netns ${pid}`, `link set ${hostVeth} master ${bridge}`, `link set ${hostVeth} up`];
  try {
    await ipBatch(commands);
  } catch (e) {
    if (!(e instanceof NetworkToolError && /File exists/.test(e.stderr))) throw e;
    await tool("ip", ["link", "del", hostVeth]).catch(() => "");
    await ipBatch(commands);
  }
}

export const DEFAULT_NETWORK = "bridge";
export const PSEUDO_NETWORKS = ["host", "none"] as const;

export class NetworkManager {
  private state: State = { networks: [], endpoints: {}, ports: {} };
  private readonly file: string;
  private readonly table: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** Ports resolved for a start that hasn't attached yet. */
  private readonly pending = new Map<string, PortRule[]>();
  /** The ruleset last applied (null: unknown, apply the next one whatever it is). */
  private applied: string | null = null;

  constructor(private readonly options: NetworkOptions) {
    this.file = path.join(options.root, "networks.json");
    this.table = tableName(options.bridge);
  }

  /** Loads the state, makes sure the default network and every bridge exist, and (re)applies the rules. */
  async init(isRunning: (containerId: string) => boolean): Promise<void> {
    if (existsSync(this.file)) this.state = JSON.parse(await readFile(this.file, "utf8")) as State;
    let def = this.state.networks.find((n) => n.builtin);
    if (!def) {
      const subnet = parseSubnet(this.options.subnet);
      // Checked once, when the default network is made: later starts keep the network their containers are on.
      const claim = claimOverlapping(await this.hostClaims([this.options.bridge]), subnet);
      if (claim) throw new NetworkError("CONFLICT", `the default bridge subnet ${subnet.cidr} overlaps the host's ${claim.source}; choose another with --bridge-subnet`);
      def = {
        id: randomBytes(32).toString("hex"),
        name: DEFAULT_NETWORK,
        driver: "bridge",
        subnet: subnet.cidr,
        gateway: gatewayOf(subnet),
        bridge: this.options.bridge,
        internal: false,
        labels: {},
        options: { "com.docker.network.bridge.name": this.options.bridge },
        created: new Date().toISOString(),
        builtin: true,
      };
      this.state.networks.push(def);
    }
    await tool("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
    for (const n of this.state.networks) await this.ensureBridge(n);
    for (const n of this.state.networks) if (!n.builtin) await this.options.dns?.serve(n.id, n.gateway);
    // Containers that stopped while we were away: their addresses and ports go.
    for (const id of Object.keys(this.state.endpoints)) if (!isRunning(id)) delete this.state.endpoints[id];
    for (const id of Object.keys(this.state.ports)) if (!isRunning(id)) delete this.state.ports[id];
    await this.save();
    await this.applyRules({ force: true });
  }

  list(): NetworkRecord[] {
    return [...this.state.networks];
  }

  /** By name, full id or unique id prefix. */
  find(key: string): NetworkRecord | undefined {
    const byName = this.state.networks.find((n) => n.name === key || n.id === key);
    if (byName) return byName;
    const matches = this.state.networks.filter((n) => n.id.startsWith(key));
    return matches.length === 1 ? matches[0] : undefined;
  }

  get(key: string): NetworkRecord {
    const n = this.find(key);
    if (!n) throw new NetworkError("NOT_FOUND", `network ${key} not found`);
    return n;
  }

  /** Whether containers on the network resolve names through its gateway (the embedded DNS answers there). */
  answersDns(networkId: string): boolean {
    return this.options.dns?.serving(networkId) ?? false;
  }

  endpointsOf(containerId: string): Endpoint[] {
    return this.state.endpoints[containerId] ?? [];
  }

  portsOf(containerId: string): PortRule[] {
    return this.state.ports[containerId] ?? [];
  }

  /** Containers (ids) with an address on the network. */
  members(networkId: string): string[] {
    return Object.entries(this.state.endpoints)
      .filter(([, eps]) => eps.some((e) => e.networkId === networkId))
      .map(([id]) => id);
  }

  create(input: { name: string; subnet?: string; gateway?: string; internal?: boolean; labels?: Record<string, string>; options?: Record<string, string> }): Promise<NetworkRecord> {
    return this.exclusive(async () => {
      const name = input.name;
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new NetworkError("INVALID", `invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      if ((PSEUDO_NETWORKS as readonly string[]).includes(name) || name === DEFAULT_NETWORK || this.state.networks.some((n) => n.name === name)) {
        throw new NetworkError("CONFLICT", `network with name ${name} already exists`);
      }
      // A malformed subnet or gateway is a SubnetError (INVALID): refused before anything is set up.
      let subnet = input.subnet ? parseSubnet(input.subnet) : undefined;
      // Read under the queue, right before the bridge is made: what the host routes now, not at start-up.
      const host = await this.hostClaims();
      subnet ??= this.freeSubnet(host);
      const clash = this.state.networks.find((n) => overlaps(parseSubnet(n.subnet), subnet));
      if (clash) throw new NetworkError("CONFLICT", `invalid pool request: Pool overlaps with other one on this address space (${subnet.cidr} overlaps network ${clash.name}, ${clash.subnet})`);
      const claim = claimOverlapping(host, subnet);
      if (claim) throw new NetworkError("CONFLICT", `invalid pool request: Pool overlaps with other one on this address space (${subnet.cidr} overlaps the host's ${claim.source})`);
      let gateway = gatewayOf(subnet);
      if (input.gateway) {
        ipToNumber(input.gateway);
        if (!contains(subnet, input.gateway)) throw new NetworkError("INVALID", `gateway ${input.gateway} is not in subnet ${subnet.cidr}`);
        gateway = input.gateway;
      }
      const id = randomBytes(32).toString("hex");
      const record: NetworkRecord = {
        id,
        name,
        driver: "bridge",
        subnet: subnet.cidr,
        gateway,
        bridge: `br-${id.slice(0, 12)}`,
        internal: Boolean(input.internal),
        labels: input.labels ?? {},
        options: input.options ?? {},
        created: new Date().toISOString(),
        builtin: false,
        userSubnet: Boolean(input.subnet),
      };
      await this.ensureBridge(record);
      this.state.networks.push(record);
      await this.save();
      await this.applyRules();
      await this.options.dns?.serve(record.id, record.gateway);
      this.options.onEvent?.("create", record);
      return record;
    });
  }

  remove(key: string): Promise<void> {
    return this.exclusive(async () => {
      const n = this.get(key);
      if (n.builtin) throw new NetworkError("CONFLICT", `${n.name} is a pre-defined network and cannot be removed`);
      const users = this.members(n.id);
      if (users.length) throw new NetworkError("CONFLICT", `error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map((u) => u.slice(0, 12)).join(", ")})`);
      this.state.networks = this.state.networks.filter((x) => x.id !== n.id);
      this.options.dns?.stop(n.id);
      await this.save();
      await this.applyRules();
      await tool("ip", ["link", "del", n.bridge]).catch(() => "");
      this.options.onEvent?.("destroy", n);
    });
  }

  /**
   * Checks the bindings and picks free ports for the random ones. Refuses a
   * host port another container of ours publishes, or that a host process
   * holds ("port is already allocated"). Nothing is reserved yet.
   */
  resolvePorts(containerId: string, bindings: PortBinding[]): Promise<PortBinding[]> {
    // Under the queue, and held as pending until attach: two starts can't both take one port.
    return this.exclusive(() => this.resolvePortsLocked(containerId, bindings));
  }

  private async resolvePortsLocked(containerId: string, bindings: PortBinding[]): Promise<PortBinding[]> {
    const resolved: PortBinding[] = [];
    for (const given of bindings) {
      let b = given;
      if (b.hostIp && !net.isIPv4(b.hostIp)) throw new NetworkError("INVALID", `invalid host address for a published port: "${b.hostIp}" (IPv4 addresses only)`);
      if (!Number.isInteger(b.containerPort) || b.containerPort < 1 || b.containerPort > 65535) throw new NetworkError("INVALID", `invalid container port for publishing: ${b.containerPort}`);
      const hostIp = b.hostIp || "0.0.0.0";
      const range = /^(\d+)-(\d+)$/.exec(b.hostPort);
      if (range) {
        // A host range for one container port: the first free one.
        let picked = 0;
        for (let p = Number(range[1]); p <= Number(range[2]) && !picked; p++) if (!this.portTaken(containerId, p, b.proto, hostIp) && (await canBind(hostIp, p, b.proto))) picked = p;
        if (!picked) throw new NetworkError("CONFLICT", `Bind for ${hostIp}:${b.hostPort} failed: every port in the range is already allocated`);
        b = { ...b, hostPort: String(picked) };
      }
      let port = Number(b.hostPort || 0);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new NetworkError("INVALID", `invalid host port: "${b.hostPort}"`);
      if (port === 0) port = await freePort(hostIp, b.proto);
      const taken = this.portTaken(containerId, port, b.proto, hostIp);
      const twice = resolved.some((r) => Number(r.hostPort) === port && r.proto === b.proto);
      if (taken || twice || !(await canBind(hostIp, port, b.proto))) {
        throw new NetworkError("CONFLICT", `Bind for ${hostIp}:${port} failed: port is already allocated`);
      }
      resolved.push({ ...b, hostIp: b.hostIp === "0.0.0.0" ? "" : b.hostIp, hostPort: String(port) });
    }
    if (resolved.length) this.pending.set(containerId, resolved.map((p) => ({ hostIp: p.hostIp, hostPort: Number(p.hostPort), proto: p.proto, containerIp: "", containerPort: p.containerPort })));
    return resolved;
  }

  private portTaken(containerId: string, port: number, proto: string, hostIp: string): boolean {
    const others = [...Object.entries(this.state.ports), ...this.pending.entries()];
    return others.some(([id, rules]) => id !== containerId && rules.some((r) => r.hostPort === port && r.proto === proto && (r.hostIp === "" || hostIp === "0.0.0.0" || r.hostIp === hostIp)));
  }

  /**
   * What dockerd refuses of an endpoint before anything is set up: aliases on
   * the default bridge, and an address (--ip) on a network whose subnet wasn't
   * given, or outside it.
   */
  checkEndpoint(n: NetworkRecord, want: Omit<EndpointRequest, "network">): void {
    if (want.aliases.length && n.builtin) throw new NetworkError("INVALID", "network-scoped alias is supported only for containers in user defined networks");
    const ip = want.ipv4Address;
    if (!ip) return;
    if (!net.isIPv4(ip) || ip === "0.0.0.0") throw new NetworkError("INVALID", `invalid endpoint settings:\ninvalid IPv4 address: ${ip}`);
    if (n.builtin) throw new NetworkError("INVALID", "invalid endpoint settings:\nuser specified IP address is supported on user defined networks only");
    if (!n.userSubnet) throw new NetworkError("INVALID", "invalid endpoint settings:\nuser specified IP address is supported only when connecting to networks with user configured subnets");
    if (!contains(parseSubnet(n.subnet), ip)) throw new NetworkError("INVALID", `invalid endpoint settings:\nno configured subnet or ip-range contain the IP address ${ip}`);
  }

  /**
   * Connects a container whose init is `pid` to networks, and publishes its
   * ports: all of its networks at start, or (`append`) one more while it
   * runs. Each endpoint gets the lowest free ethN; the default route goes
   * through the first non-internal network. On failure what this call set
   * up is undone.
   */
  attach(containerId: string, pid: number, wanted: EndpointRequest[], ports: PortBinding[], options: { append?: boolean } = {}): Promise<Endpoint[]> {
    return this.exclusive(async () => {
      const before = options.append ? [...(this.state.endpoints[containerId] ?? [])] : [];
      const endpoints: Endpoint[] = [...before];
      try {
        const inside: string[] = options.append ? [] : ["link set lo up"];
        for (const want of wanted) {
          const n = this.get(want.network);
          this.checkEndpoint(n, want);
          if (endpoints.some((e) => e.networkId === n.id)) throw new NetworkError("FORBIDDEN", `endpoint with name ${containerId.slice(0, 12)} already exists in network ${n.name}`);
          const subnet = parseSubnet(n.subnet);
          const ip = this.allocate(n, containerId, want.ipv4Address);
          const hostVeth = `vb${createHash("sha256").update(`${containerId}/${n.id}`).digest("hex").slice(0, 12)}`;
          const iface = freeInterface(endpoints);
          const mac = macFor(ip);
          const defaultRoute = !n.internal && !endpoints.some((e) => e.defaultRoute);
          const ep: Endpoint = { networkId: n.id, ip, prefix: subnet.prefix, gateway: n.gateway, hostVeth, iface, aliases: want.aliases, mac, ...(defaultRoute ? { defaultRoute } : {}) };
          endpoints.push(ep);
          this.state.endpoints[containerId] = [...endpoints];
          await addVeth(hostVeth, iface, pid, n.bridge);
          inside.push(`link set ${iface} address ${mac}`, `addr add ${ip}/${subnet.prefix} dev ${iface}`, `link set ${iface} up`);
          if (defaultRoute) inside.push(`route replace default via ${n.gateway} dev ${iface}`);
        }
        await ipBatch(inside, pid);
        const first = endpoints[0];
        if (ports.length) {
          if (!first) throw new NetworkError("INVALID", "ports can only be published from a container on a bridge network");
          this.state.ports[containerId] = ports.map((p) => ({ hostIp: p.hostIp, hostPort: Number(p.hostPort), proto: p.proto, containerIp: first.ip, containerPort: p.containerPort }));
        }
        this.pending.delete(containerId);
        await this.save();
        await this.applyRules();
        return endpoints;
      } catch (e) {
        if (!options.append) await this.releaseLocked(containerId);
        else {
          for (const ep of endpoints.slice(before.length)) await tool("ip", ["link", "del", ep.hostVeth]).catch(() => "");
          this.state.endpoints[containerId] = before;
          await this.save();
        }
        throw e;
      }
    });
  }

  /**
   * Takes a running container (init `pid`) off one network: deleting the host
   * end of a veth deletes both ends. If its default route went out there, it
   * goes out through the next non-internal network it is on.
   */
  detach(containerId: string, networkId: string, pid: number): Promise<void> {
    return this.exclusive(async () => {
      const eps = this.state.endpoints[containerId] ?? [];
      const ep = eps.find((e) => e.networkId === networkId);
      if (!ep) return;
      // Its published ports go first: a new connection is refused at once rather than sent to an address about to vanish.
      const ports = this.state.ports[containerId];
      if (ports?.some((p) => p.containerIp === ep.ip)) {
        delete this.state.ports[containerId];
        await this.applyRules();
      }
      await tool("ip", ["link", "del", ep.hostVeth]).catch(() => "");
      const rest = eps.filter((e) => e !== ep);
      this.state.endpoints[containerId] = rest;
      // Records from before defaultRoute was kept: eth0 on a non-internal network had it.
      const hadRoute = ep.defaultRoute ?? (ep.iface === "eth0" && !this.find(ep.networkId)?.internal && !rest.some((e) => e.defaultRoute));
      const next = hadRoute ? rest.find((e) => !this.find(e.networkId)?.internal) : undefined;
      if (next) {
        await ipBatch([`route replace default via ${next.gateway} dev ${next.iface}`], pid).catch(() => "");
        next.defaultRoute = true;
      }
      await this.save();
      await this.applyRules();
    });
  }

  /** The container stopped: its addresses and ports go (its veths went with its network namespace). */
  release(containerId: string): Promise<void> {
    return this.exclusive(() => this.releaseLocked(containerId));
  }

  /** Everything ours leaves the host: the table and the bridges (the state file stays). */
  async teardown(): Promise<void> {
    this.applied = null;
    await tool("nft", ["-f", "-"], deleteTableScript(this.table)).catch(() => "");
    for (const n of this.state.networks) await tool("ip", ["link", "del", n.bridge]).catch(() => "");
  }

  private async releaseLocked(containerId: string): Promise<void> {
    this.pending.delete(containerId);
    const had = Boolean(this.state.endpoints[containerId] || this.state.ports[containerId]);
    for (const ep of this.state.endpoints[containerId] ?? []) await tool("ip", ["link", "del", ep.hostVeth]).catch(() => "");
    delete this.state.endpoints[containerId];
    delete this.state.ports[containerId];
    if (!had) return;
    await this.save();
    await this.applyRules();
  }

  /** The address asked for (if free), or the first free one of the subnet. */
  private allocate(n: NetworkRecord, containerId: string, wanted?: string): string {
    const subnet = parseSubnet(n.subnet);
    const used = new Set<string>([n.gateway]);
    for (const [id, eps] of Object.entries(this.state.endpoints)) {
      if (id === containerId) continue;
      for (const e of eps) if (e.networkId === n.id) used.add(e.ip);
    }
    if (wanted) {
      const offset = ipToNumber(wanted) - subnet.base;
      if (used.has(wanted) || offset <= 0 || offset >= size(subnet) - 1) throw new NetworkError("CONFLICT", `Address already in use`);
      return wanted;
    }
    // Skip the network address and the broadcast address.
    for (let i = 1; i < size(subnet) - 1; i++) {
      const ip = numberToIp(subnet.base + i);
      if (!used.has(ip)) return ip;
    }
    throw new NetworkError("CONFLICT", `no free address left in network ${n.name} (${n.subnet})`);
  }

  /** The first /24 of the pool that neither our networks nor the host's routes and addresses use. */
  private freeSubnet(host: readonly HostClaim[]) {
    const pool = parseSubnet(this.options.pool);
    for (let i = 0; i < size(pool) / 256; i++) {
      const candidate = parseSubnet(`${numberToIp(pool.base + i * 256)}/24`);
      if (!this.state.networks.some((n) => overlaps(parseSubnet(n.subnet), candidate)) && !claimOverlapping(host, candidate)) return candidate;
    }
    throw new NetworkError("CONFLICT", `no free /24 left in the address pool ${pool.cidr} (the rest is used by other networks or the host's routes); pass a subnet`);
  }

  /**
   * The host's routes and addresses, leaving out our own bridges': those are
   * our networks, which the caller checks by name (and a restarted agent's
   * default bridge must not clash with itself).
   */
  private hostClaims(extraOwn: string[] = []): Promise<HostClaim[]> {
    return readHostClaims(new Set([...this.state.networks.map((n) => n.bridge), ...extraOwn]));
  }

  private async ensureBridge(n: NetworkRecord): Promise<void> {
    const exists = await tool("ip", ["-o", "link", "show", n.bridge]).then(() => true, () => false);
    const prefix = parseSubnet(n.subnet).prefix;
    const commands = exists ? [] : [`link add ${n.bridge} type bridge`];
    await ipBatch(commands);
    const addrs = await tool("ip", ["-o", "-4", "addr", "show", "dev", n.bridge]);
    if (!addrs.includes(`${n.gateway}/${prefix}`)) await tool("ip", ["addr", "add", `${n.gateway}/${prefix}`, "dev", n.bridge]);
    await tool("ip", ["link", "set", n.bridge, "up"]);
    // Lets DNAT send loopback clients' packets (127.0.0.1 → a published port) out through the bridge.
    await tool("sysctl", ["-q", "-w", `net.ipv4.conf.${n.bridge}.route_localnet=1`]);
  }

  /**
   * Replaces our table when its rules changed since we last applied them (a container without published ports
   * starting or stopping changes nothing: no nft run). init() always applies.
   */
  private async applyRules(options: { force?: boolean } = {}): Promise<void> {
    const networks = this.state.networks.map((n) => ({ bridge: n.bridge, subnet: n.subnet, internal: n.internal }));
    const ports = Object.values(this.state.ports).flat();
    const ruleset = buildRuleset(this.table, networks, ports);
    if (!options.force && ruleset === this.applied) return;
    this.applied = null;
    await tool("nft", ["-f", "-"], ruleset);
    this.applied = ruleset;
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(this.state), 0o600);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The lowest ethN the container doesn't have yet (a network left while it runs frees its name). */
function freeInterface(endpoints: Endpoint[]): string {
  const taken = new Set(endpoints.map((e) => e.iface));
  let i = 0;
  while (i < endpoints.length && taken.has(`eth${i}`)) i++;
  return `eth${i}`;
}

/** Docker derives the MAC from the IPv4 address: 02:42 + the four bytes. */
function macFor(ip: string): string {
  return ["02", "42", ...ip.split(".").map((p) => Number(p).toString(16).padStart(2, "0"))].join(":");
}

function canBind(host: string, port: number, proto: "tcp" | "udp"): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === "udp") {
      const s = dgram.createSocket("udp4");
      s.once("error", () => resolve(false));
      s.bind(port, host, () => s.close(() => resolve(true)));
      return;
    }
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function freePort(host: string, proto: "tcp" | "udp"): Promise<number> {
  return new Promise((resolve, reject) => {
    if (proto === "udp") {
      const s = dgram.createSocket("udp4");
      s.once("error", reject);
      s.bind(0, host, () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
      return;
    }
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
