import { tool } from "./exec";
import { ipToNumber, numberToIp, overlaps, type Subnet } from "./subnet";

// What the host already routes or holds an address in, as the agent's network
// namespace sees it: every routing table (main, local, policy tables) and
// every interface address. A bridge network on a subnet the host routes
// elsewhere (its LAN, a VPN, another agent's bridge) would install a second
// route to the same addresses and cut the host off from the real ones.

export interface HostClaim {
  subnet: Subnet;
  /** For the error message, e.g. "route 192.168.1.0/24 dev eth0" or "address 10.0.0.5/24 on eth0". */
  source: string;
}

interface RouteJson {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  table?: string;
}

interface AddrJson {
  ifname?: string;
  addr_info?: { family?: string; local?: string; address?: string; prefixlen?: number }[];
}

/** A CIDR or bare address (a /32) as a range, host bits cleared; null for anything not IPv4. */
function rangeOf(text: string, prefixlen?: number): Subnet | null {
  const [ip, bits] = text.split("/");
  const prefix = prefixlen ?? (bits === undefined ? 32 : Number(bits));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return null;
  let n: number;
  try {
    n = ipToNumber(ip!);
  } catch {
    return null;
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (n & mask) >>> 0;
  return { base, prefix, cidr: `${numberToIp(base)}/${prefix}` };
}

/**
 * Routes from `ip -4 -j route show table all`. Default routes (0.0.0.0/0) are
 * left out: they cover every address and say nothing about which are in use.
 */
export function parseRoutes(json: string, ownDevices: ReadonlySet<string>): HostClaim[] {
  const claims: HostClaim[] = [];
  for (const r of JSON.parse(json || "[]") as RouteJson[]) {
    if (!r.dst || r.dst === "default" || (r.dev && ownDevices.has(r.dev))) continue;
    const subnet = rangeOf(r.dst);
    if (!subnet || subnet.prefix === 0) continue;
    const how = [r.type && r.type !== "unicast" ? r.type : null, r.gateway ? `via ${r.gateway}` : null, r.dev ? `dev ${r.dev}` : null, r.table && r.table !== "main" ? `table ${r.table}` : null];
    claims.push({ subnet, source: ["route", r.dst, ...how].filter(Boolean).join(" ") });
  }
  return claims;
}

/** Interface addresses from `ip -4 -j addr show`: each address's network, and a point-to-point peer's. */
export function parseAddresses(json: string, ownDevices: ReadonlySet<string>): HostClaim[] {
  const claims: HostClaim[] = [];
  for (const link of JSON.parse(json || "[]") as AddrJson[]) {
    if (link.ifname && ownDevices.has(link.ifname)) continue;
    for (const a of link.addr_info ?? []) {
      if (a.family !== "inet") continue;
      for (const ip of [a.local, a.address]) {
        const subnet = ip ? rangeOf(ip, a.prefixlen) : null;
        if (subnet && subnet.prefix > 0) claims.push({ subnet, source: `address ${ip}/${a.prefixlen} on ${link.ifname ?? "?"}` });
      }
    }
  }
  return claims;
}

/** Everything the host routes or has an address in, except on `ownDevices` (the agent's own bridges). */
export async function readHostClaims(ownDevices: ReadonlySet<string>): Promise<HostClaim[]> {
  const [routes, addrs] = await Promise.all([tool("ip", ["-4", "-j", "route", "show", "table", "all"]), tool("ip", ["-4", "-j", "addr", "show"])]);
  return [...parseRoutes(routes, ownDevices), ...parseAddresses(addrs, ownDevices)];
}

export function claimOverlapping(claims: readonly HostClaim[], subnet: Subnet): HostClaim | undefined {
  return claims.find((c) => overlaps(c.subnet, subnet));
}
