import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { AgentError } from "../errors";

// Which addresses the registry client may connect to. A pull names its
// registry, and a registry names others (redirects, its token service): left
// alone, anyone who may pull could make the agent talk to the host's own
// loopback services (Postgres, sshd, the agent's neighbours) or to link-local
// ones (cloud metadata), and learn from the answers what listens there. So a
// connection whose resolved address is loopback, link-local or unspecified is
// refused unless that registry endpoint was allowed explicitly
// (--allow-local-registry HOST:PORT). The check runs when the socket
// connects, on the very addresses it then connects to: a name can't resolve to
// one address for the check and another for the connection.

export type LocalKind = "loopback" | "link-local" | "unspecified";

function ipv4Kind(ip: string): LocalKind | null {
  const [a, b] = ip.split(".").map(Number);
  if (a === 127) return "loopback";
  if (a === 169 && b === 254) return "link-local";
  // 0.0.0.0/8 is "this network": Linux connects 0.0.0.0 to the host itself.
  if (a === 0) return "unspecified";
  return null;
}

/** Why an address is local, or null when it is an ordinary one. */
export function localAddressKind(address: string): LocalKind | null {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (net.isIPv4(ip)) return ipv4Kind(ip);
  if (!net.isIPv6(ip)) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return ipv4Kind(mapped[1]!);
  // Compare the expanded form: "0:0::1" is ::1 too.
  const blocks = expandIPv6(ip);
  if (blocks.every((b) => b === 0)) return "unspecified";
  if (blocks.slice(0, 7).every((b) => b === 0) && blocks[7] === 1) return "loopback";
  if ((blocks[0]! & 0xffc0) === 0xfe80) return "link-local";
  // ::ffff:7f00:1 is the hex spelling of a mapped IPv4 address.
  if (blocks.slice(0, 5).every((b) => b === 0) && blocks[5] === 0xffff) return ipv4Kind(`${blocks[6]! >> 8}.${blocks[6]! & 255}.${blocks[7]! >> 8}.${blocks[7]! & 255}`);
  return null;
}

function expandIPv6(ip: string): number[] {
  let text = ip.split("%")[0]!;
  // A trailing dotted quad (::ffff:1.2.3.4 spelled differently) becomes two blocks.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1]!.split(".").map(Number);
    text = text.slice(0, -quad[1]!.length) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const parse = (s: string | undefined) => (s ? s.split(":").map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

/** host:port with the port spelled out (the scheme's default when the URL has none), host lower-cased. */
export function endpointOf(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname.toLowerCase()}:${port}`;
}

/** An allow-list entry as endpoints: HOST:PORT, or a bare HOST for its default ports (80 and 443). */
function entryEndpoints(entry: string): string[] {
  const trimmed = entry.trim().toLowerCase();
  const withPort = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(trimmed);
  if (withPort) return [`${withPort[1]}:${Number(withPort[2])}`];
  const host = net.isIPv6(trimmed) ? `[${trimmed}]` : trimmed;
  return [`${host}:80`, `${host}:443`];
}

/** A refused connection: what the user asked for is named, and how to allow it. */
export class LocalRegistryRefused extends AgentError<"UNREACHABLE"> {
  override name = "LocalRegistryRefused";
  constructor(
    readonly endpoint: string,
    readonly address: string,
    readonly kind: LocalKind,
  ) {
    const what = endpoint.startsWith(`${address}:`) || endpoint.startsWith(`[${address}]:`) ? `${endpoint} is a ${kind} address` : `${endpoint} resolves to ${address}, a ${kind} address`;
    super("UNREACHABLE", `${what}; the agent contacts loopback, link-local and unspecified addresses only for registries allowed with --allow-local-registry ${endpoint}`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
export type GuardedLookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

export class RegistryAddressGuard {
  private readonly allowed: Set<string>;
  /** Connections are pooled per guard: a socket opened under one allow-list is never reused under another. */
  readonly agents: { "http:": http.Agent; "https:": https.Agent } = {
    "http:": new http.Agent({ keepAlive: true }),
    "https:": new https.Agent({ keepAlive: true }),
  };

  constructor(allowLocal: readonly string[] = []) {
    this.allowed = new Set(allowLocal.flatMap(entryEndpoints));
  }

  /** Throws LocalRegistryRefused when `address` is local and the endpoint wasn't allowed. */
  check(endpoint: string, address: string): void {
    const kind = localAddressKind(address);
    if (kind && !this.allowed.has(endpoint)) throw new LocalRegistryRefused(endpoint, address, kind);
  }

  /** For a URL whose host is an address: checked here, since no lookup happens for it. */
  checkLiteral(url: URL): void {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(host)) this.check(endpointOf(url), host);
  }

  /**
   * The lookup a socket for `url` connects through: every address the name
   * resolves to is checked, and only checked ones are handed to the socket.
   */
  lookupFor(url: URL): GuardedLookup {
    const endpoint = endpointOf(url);
    return (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, options.all ? [] : "", undefined);
        try {
          for (const a of addresses) this.check(endpoint, a.address);
        } catch (refused) {
          return callback(refused as NodeJS.ErrnoException, options.all ? [] : "", undefined);
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", undefined);
        callback(null, first.address, first.family);
      });
    };
  }
}
