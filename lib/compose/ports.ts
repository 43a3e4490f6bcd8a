// Published ports, short syntax ("[HOST_IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTOCOL]")
// and long syntax, into the deploy spec's one-port-per-entry form.

import type { PortSpec } from "../deploy/spec";
import { isObj } from "./merge";

type Ports = { ok: true; ports: PortSpec[] } | { ok: false; message: string };

function range(text: string): [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a || b - a >= 1000) return null;
  return [a, b];
}

function protocolOf(text: string | undefined): "tcp" | "udp" | null {
  const p = (text ?? "tcp").toLowerCase();
  return p === "tcp" || p === "udp" ? p : null;
}

function expand(hostIp: string | undefined, host: string | undefined, container: string, protocol: "tcp" | "udp"): Ports {
  const c = range(container);
  if (!c) return { ok: false, message: `"${container}" is not a container port or range (1-65535)` };
  const h = host === undefined || host === "" ? null : range(host);
  if (host && !h) return { ok: false, message: `"${host}" is not a host port or range (1-65535)` };
  const count = c[1] - c[0] + 1;
  if (h && h[1] - h[0] + 1 !== count) {
    return { ok: false, message: `host range ${host} and container range ${container} differ in length: Berth publishes each container port on its own host port` };
  }
  const ports: PortSpec[] = [];
  for (let i = 0; i < count; i++) {
    ports.push({ ...(hostIp ? { hostIp } : {}), ...(h ? { hostPort: h[0] + i } : {}), containerPort: c[0] + i, protocol });
  }
  return { ok: true, ports };
}

export function parsePort(entry: unknown): Ports {
  if (isObj(entry)) {
    const protocol = protocolOf(entry.protocol as string | undefined);
    if (!protocol) return { ok: false, message: `protocol "${String(entry.protocol)}" is not supported: use tcp or udp` };
    if (entry.target === undefined) return { ok: false, message: "a port needs its target (the container port)" };
    const published = entry.published === undefined || entry.published === null ? undefined : String(entry.published);
    return expand(entry.host_ip as string | undefined, published, String(entry.target), protocol);
  }
  let text = String(entry).trim();
  let protocol: "tcp" | "udp" = "tcp";
  const slash = text.lastIndexOf("/");
  if (slash >= 0) {
    const p = protocolOf(text.slice(slash + 1));
    if (!p) return { ok: false, message: `protocol "${text.slice(slash + 1)}" is not supported: use tcp or udp` };
    protocol = p;
    text = text.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(text);
  if (v6) {
    hostIp = v6[1];
    text = v6[2]!;
    const i = text.lastIndexOf(":");
    return i < 0 ? { ok: false, message: `"${String(entry)}": after a host IP come the host and container ports` } : expand(hostIp, text.slice(0, i), text.slice(i + 1), protocol);
  }
  const parts = text.split(":");
  if (parts.length === 1) return expand(undefined, undefined, parts[0]!, protocol);
  if (parts.length === 2) return expand(undefined, parts[0], parts[1]!, protocol);
  if (parts.length === 3) return expand(parts[0] || undefined, parts[1], parts[2]!, protocol);
  return { ok: false, message: `"${String(entry)}" is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]` };
}
