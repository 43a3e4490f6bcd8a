import type { NetworkManager, PortBinding } from "../network/manager";
import { DEFAULT_NETWORK } from "../network/manager";
import type { CreateRequest } from "../../lib/docker/create-request";
import type { ContainerRecord, NetworkAttachment } from "./container-store";
import { EngineError } from "./errors";

// What networking a container asks for, in the network manager's terms.

/** "default"/"bridge" → the default network; "none"/"host" → none; a name or id → that network (must exist). */
export function attachmentsFor(request: CreateRequest, networks: Pick<NetworkManager, "find">): NetworkAttachment[] {
  const mode = request.HostConfig?.NetworkMode || "default";
  if (mode === "none" || mode === "host") return [];
  if (mode.startsWith("container:")) throw new EngineError("INVALID", `network mode "${mode}" is not supported`);
  const name = mode === "default" ? DEFAULT_NETWORK : mode;
  const network = networks.find(name);
  if (!network) throw new EngineError("NOT_FOUND", `network ${name} not found`);
  const endpoint = request.NetworkingConfig?.EndpointsConfig?.[mode] ?? request.NetworkingConfig?.EndpointsConfig?.[name];
  const aliases = [...(endpoint?.Aliases ?? [])];
  if (aliases.length && network.builtin) throw new EngineError("INVALID", "network-scoped aliases are only supported for user-defined networks");
  return [{ networkId: network.id, aliases }];
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
