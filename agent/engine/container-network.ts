import type { EndpointRequest, NetworkManager, PortBinding } from "../network/manager";
import { DEFAULT_NETWORK } from "../network/manager";
import type { CreateRequest, EndpointSettings } from "../../lib/docker/create-request";
import type { ContainerRecord, NetworkAttachment } from "./container-store";
import { EngineError } from "./errors";

// What networking a container asks for, in the network manager's terms.

/** What a container's endpoint asks of a network: aliases, and an address (IPAMConfig). */
export function attachmentFor(networkId: string, endpoint: EndpointSettings | undefined): NetworkAttachment {
  const ipv4Address = endpoint?.IPAMConfig?.IPv4Address || undefined;
  return { networkId, aliases: [...new Set(endpoint?.Aliases ?? [])], ...(ipv4Address ? { ipv4Address } : {}) };
}

/**
 * The networks a new container joins, eth0 first: its NetworkMode's network
 * ("default"/"bridge" → the default one; "none"/"host" → none), with the
 * endpoint settings given for it, then any other network NetworkingConfig
 * names (API 1.44 lets a create name several). Each must exist; aliases and
 * addresses are checked as a connect checks them.
 */
export function attachmentsFor(request: CreateRequest, networks: Pick<NetworkManager, "find" | "checkEndpoint">): NetworkAttachment[] {
  const mode = request.HostConfig?.NetworkMode || "default";
  if (mode === "none" || mode === "host") return [];
  if (mode.startsWith("container:")) throw new EngineError("INVALID", `network mode "${mode}" is not supported`);
  const lookup = (key: string) => {
    // The CLI names the default network "default" when no --network is given.
    const name = key === "default" ? DEFAULT_NETWORK : key;
    const n = networks.find(name);
    if (!n) throw new EngineError("NOT_FOUND", `network ${name} not found`);
    return n;
  };
  const primary = lookup(mode);
  const given = Object.entries(request.NetworkingConfig?.EndpointsConfig ?? {});
  const out: NetworkAttachment[] = [];
  const add = (network: ReturnType<typeof lookup>, endpoint: EndpointSettings | undefined) => {
    if (out.some((a) => a.networkId === network.id)) return;
    const attachment = attachmentFor(network.id, endpoint);
    networks.checkEndpoint(network, attachment);
    out.push(attachment);
  };
  const mine = given.find(([key]) => key === mode || lookup(key).id === primary.id);
  add(primary, mine?.[1]);
  for (const [key, endpoint] of given) add(lookup(key), endpoint);
  return out;
}

/** The endpoints to set up at start, in the network manager's terms. */
export function endpointRequests(record: ContainerRecord): EndpointRequest[] {
  return record.networks.map((a) => ({ network: a.networkId, aliases: a.aliases, ...(a.ipv4Address ? { ipv4Address: a.ipv4Address } : {}) }));
}

/**
 * The names a container answers to on a user-defined network (dockerd's
 * DNSNames): its name, its aliases there, its short id and its hostname.
 */
export function dnsNames(record: Pick<ContainerRecord, "id" | "name" | "config">, aliases: readonly string[]): string[] {
  return [...new Set([record.name, ...aliases, record.id.slice(0, 12), record.config.Hostname].filter(Boolean))];
}

/** -p and -P: the bindings to publish ("80/tcp" keys; -P adds every exposed port on a random host port). */
/** "8000" → [8000]; "8000-8002" → [8000, 8001, 8002]. */
function portRange(text: string, what: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new EngineError("INVALID", `invalid ${what}: "${text}"`);
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  if (from < 1 || to > 65535 || to < from) throw new EngineError("INVALID", `invalid ${what}: "${text}"`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export function portBindingsOf(record: ContainerRecord): PortBinding[] {
  const out: PortBinding[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(record.host.PortBindings ?? {})) {
    const [port = "", proto = "tcp"] = key.split("/");
    const ctrPorts = portRange(port, "container port");
    for (const b of list ?? []) {
      const hostText = b.HostPort ?? "";
      // -p 8000-8002:80-82 pairs them up; -p 80-82 (no host ports) picks a free one for each.
      const hostPorts = hostText ? portRange(hostText, "host port") : ctrPorts.map(() => 0);
      if (hostPorts.length !== ctrPorts.length && !(hostPorts.length > 1 && ctrPorts.length === 1)) {
        throw new EngineError("INVALID", `invalid port range: host ports ${hostText} and container ports ${port} differ in length`);
      }
      if (ctrPorts.length === 1 && hostPorts.length > 1) {
        // -p 8000-8010:80: Docker takes the first free host port of the range.
        out.push({ hostIp: b.HostIp ?? "", hostPort: hostText, containerPort: ctrPorts[0]!, proto: proto === "udp" ? "udp" : "tcp" });
      } else {
        ctrPorts.forEach((c, i) => out.push({ hostIp: b.HostIp ?? "", hostPort: hostPorts[i] ? String(hostPorts[i]) : "", containerPort: c, proto: proto === "udp" ? "udp" : "tcp" }));
      }
    }
    for (const c of ctrPorts) seen.add(`${c}/${proto}`);
  }
  if (record.host.PublishAllPorts) {
    for (const key of Object.keys(record.config.ExposedPorts ?? {})) {
      const [port = "", proto = "tcp"] = key.split("/");
      for (const c of portRange(port, "exposed port")) {
        if (seen.has(`${c}/${proto}`)) continue;
        out.push({ hostIp: "", hostPort: "", containerPort: c, proto: proto === "udp" ? "udp" : "tcp" });
      }
    }
  }
  return out;
}

/** --add-host name:ip entries, as /etc/hosts peers. */
export function extraHostsOf(record: ContainerRecord): { ip: string; names: string[] }[] {
  return record.host.ExtraHosts.map((h) => {
    const i = h.indexOf(":");
    return { ip: h.slice(i + 1), names: [h.slice(0, i)] };
  });
}

/** /etc/hosts: the usual lines, the container's own address and name, then its peers and links. */
export function hostsFile(own: { hostname: string; ip: string | null }, peers: { ip: string; names: string[] }[]): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"];
  lines.push(own.ip ? `${own.ip}\t${own.hostname}` : `127.0.1.1\t${own.hostname}`);
  for (const p of peers) lines.push(`${p.ip}\t${[...new Set(p.names)].join(" ")}`);
  return lines.join("\n") + "\n";
}
