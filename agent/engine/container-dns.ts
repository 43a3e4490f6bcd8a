import { readFileSync } from "node:fs";
import { TYPE_A, TYPE_PTR, reverseAddress, type DnsRecord } from "../network/dns-message";
import type { DnsAnswer, DnsQuestion } from "../network/dns-server";
import type { ContainerLookup } from "./container-hosts";
import { dnsNames, extraHostsOf } from "./container-network";
import type { ContainerRecord } from "./container-store";
import type { EngineNetwork } from "./deps";

// What the embedded DNS answers a container (dns-server.ts asks): the names
// its /etc/hosts holds, from the same facts (container-hosts.ts). A running
// container on a network it shares with the asker answers to its name, its
// aliases there, its short id, its hostname and NAME.NETWORK; every container
// of a scaled service that has an alias or name is in the answer. The
// asker's --link and --add-host names answer too. Anything else goes to the
// asker's upstream resolvers: its --dns, or the host's.

const HOST_RESOLV_CONF = "/etc/resolv.conf";
/** How long the host's resolvers are remembered. */
const UPSTREAM_CACHE_MS = 5000;

export class ContainerDns {
  private hostUpstreams: { at: number; list: string[] } | null = null;

  constructor(
    private readonly network: Pick<EngineNetwork, "find" | "endpointsOf" | "members">,
    private readonly containers: ContainerLookup,
    /** Whether a container's endpoint on a network is still named to its peers (false while it is leaving). */
    private readonly named: (containerId: string, networkId: string) => boolean = () => true,
  ) {}

  lookup(q: DnsQuestion): DnsAnswer {
    const asker = this.network.members(q.networkId).find((id) => this.network.endpointsOf(id).some((e) => e.networkId === q.networkId && e.ip === q.client));
    const record = asker ? this.containers.byId(asker) : undefined;
    if (!record) return { kind: "refused" };
    const name = q.name.replace(/\.$/, "").toLowerCase();
    const records: DnsRecord[] = [];
    if (q.type === TYPE_PTR) {
      const ip = reverseAddress(name);
      if (ip) for (const n of this.namesAt(record, ip)) records.push({ type: TYPE_PTR, name: n });
    } else {
      for (const ip of this.addressesOf(record, name)) records.push({ type: TYPE_A, address: ip });
    }
    // A name we hold answers here whatever type was asked (none for AAAA: NOERROR, no records).
    if (records.length || (q.type !== TYPE_PTR && this.addressesOf(record, name).length)) return { kind: "local", records };
    return { kind: "forward", upstreams: record.host.Dns.length ? record.host.Dns : this.hostResolvers() };
  }

  /** The addresses `name` has for the asker: peers on the networks they share, then its links and extra hosts. */
  private addressesOf(asker: ContainerRecord, name: string): string[] {
    const out = new Set<string>();
    for (const { networkName, peer, ip, aliases } of this.peers(asker)) {
      const names = dnsNames(peer, aliases).map((n) => n.toLowerCase());
      if (names.includes(name) || name === `${peer.name}.${networkName}`.toLowerCase()) out.add(ip);
    }
    for (const link of asker.host.Links) {
      const [target, alias] = link.split(":") as [string, string | undefined];
      const other = this.containers.find(target.replace(/^\//, ""));
      const ip = other ? this.network.endpointsOf(other.id)[0]?.ip : undefined;
      if (other && ip && [alias ?? other.name, other.name, other.id.slice(0, 12)].some((n) => n.replace(/^\//, "").toLowerCase() === name)) out.add(ip);
    }
    for (const h of extraHostsOf(asker)) if (h.names.some((n) => n.toLowerCase() === name) && /^\d+\.\d+\.\d+\.\d+$/.test(h.ip)) out.add(h.ip);
    return [...out];
  }

  /** Reverse lookup: the names of the container at `ip` on a network shared with the asker (NAME.NETWORK, as Docker answers). */
  private namesAt(asker: ContainerRecord, ip: string): string[] {
    return this.peers(asker)
      .filter((p) => p.ip === ip)
      .map((p) => `${p.peer.name}.${p.networkName}`);
  }

  /** Every running container (the asker too) on each user-defined network the asker is on, with its address and aliases there. */
  private peers(asker: ContainerRecord): { networkName: string; peer: ContainerRecord; ip: string; aliases: string[] }[] {
    const out: { networkName: string; peer: ContainerRecord; ip: string; aliases: string[] }[] = [];
    for (const ep of this.network.endpointsOf(asker.id)) {
      const n = this.network.find(ep.networkId);
      if (!n || n.builtin) continue;
      for (const id of this.network.members(n.id)) {
        const peer = this.containers.byId(id);
        const theirs = this.network.endpointsOf(id).find((e) => e.networkId === n.id);
        if (peer && theirs && peer.state.status !== "removing" && this.named(id, n.id)) out.push({ networkName: n.name, peer, ip: theirs.ip, aliases: theirs.aliases });
      }
    }
    return out;
  }

  /** The host's nameservers (loopback ones too: the agent asks from the host's network namespace). */
  private hostResolvers(): string[] {
    const now = Date.now();
    if (this.hostUpstreams && now - this.hostUpstreams.at < UPSTREAM_CACHE_MS) return this.hostUpstreams.list;
    let text = "";
    try {
      text = readFileSync(HOST_RESOLV_CONF, "utf8");
    } catch {
      // No resolv.conf: nothing to relay to.
    }
    const list = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!.replace(/%.*$/, ""));
    this.hostUpstreams = { at: now, list };
    return list;
  }
}

/**
 * A container's /etc/resolv.conf: on a user-defined network whose gateway
 * answers DNS, that gateway (with ndots:0, as Docker's 127.0.0.11), keeping
 * the search domains; otherwise its --dns servers, or the host's minus the
 * loopback ones a private network namespace can't reach.
 */
export function resolvConf(record: Pick<ContainerRecord, "host">, hostResolvConf: string, embedded: string | null): string {
  const { Dns, DnsSearch, DnsOptions } = record.host;
  const hostSearch = hostResolvConf.split("\n").filter((l) => /^\s*(search|domain)\s/.test(l));
  if (embedded) {
    const lines = [`nameserver ${embedded}`];
    lines.push(...(DnsSearch.length ? [`search ${DnsSearch.join(" ")}`] : hostSearch));
    lines.push(`options ${["ndots:0", ...DnsOptions.filter((o) => !o.startsWith("ndots:"))].join(" ")}`);
    return lines.join("\n") + "\n";
  }
  if (Dns.length || DnsSearch.length || DnsOptions.length) {
    const lines = Dns.length ? Dns.map((d) => `nameserver ${d}`) : hostResolvConf.split("\n").filter((l) => /^\s*nameserver\s/.test(l) && !/^\s*nameserver\s+(127\.|::1)/.test(l));
    lines.push(...(DnsSearch.length ? [`search ${DnsSearch.join(" ")}`] : hostSearch));
    if (DnsOptions.length) lines.push(`options ${DnsOptions.join(" ")}`);
    return lines.join("\n") + "\n";
  }
  return hostResolvConf
    .split("\n")
    .filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l))
    .join("\n");
}
