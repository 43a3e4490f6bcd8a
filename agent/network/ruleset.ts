// The agent's whole nftables table, generated from its state and replaced
// atomically in one `nft -f` transaction (create, delete, re-create), so the
// kernel never holds a half-updated or duplicated rule set. Nothing outside
// this table is touched.

export interface RulesetNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface PortRule {
  /** "" = every local address. */
  hostIp: string;
  hostPort: number;
  proto: "tcp" | "udp";
  containerIp: string;
  containerPort: number;
}

export function tableName(defaultBridge: string): string {
  return `berth_${defaultBridge.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

const quote = (s: string) => `"${s}"`;

/**
 * The source address a container sees for clients on the host's loopback that
 * reach a published port: the IPv4 dummy address (RFC 7600), which is never a
 * real peer. Masquerading them to the bridge's gateway instead made them share
 * connection tuples with the host's own direct connections to containers
 * (which come from the gateway): conntrack then remapped ports, and the
 * container's TIME_WAIT sockets dropped the SYNs of a reused tuple as old
 * duplicates (PAWS, since each connection has its own timestamp offset), so
 * clients stalled for a second per lost SYN.
 */
export const LOOPBACK_CLIENT_SOURCE = "192.0.0.8";

export function buildRuleset(table: string, networks: RulesetNetwork[], ports: PortRule[]): string {
  const lines: string[] = [];
  lines.push(`table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`);

  // Published ports: DNAT of traffic to a local address (from outside, and from the host itself).
  lines.push("  chain publish {");
  for (const p of ports) {
    const daddr = p.hostIp && p.hostIp !== "0.0.0.0" ? `ip daddr ${p.hostIp} ` : "";
    lines.push(`    ${daddr}${p.proto} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort}`);
  }
  lines.push("  }");
  lines.push("  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;", "    fib daddr type local jump publish", "  }");
  lines.push("  chain output {", "    type nat hook output priority -100; policy accept;", "    fib daddr type local jump publish", "  }");

  lines.push("  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;");
  for (const n of networks) {
    // Outbound NAT (not for internal networks), and loopback clients reaching a published port. An
    // internal network's containers have no default route, so there loopback clients come from the gateway.
    if (!n.internal) lines.push(`    ip saddr ${n.subnet} oifname != ${quote(n.bridge)} masquerade`);
    if (n.internal) lines.push(`    ip saddr 127.0.0.0/8 oifname ${quote(n.bridge)} masquerade`);
    else lines.push(`    ip saddr 127.0.0.0/8 oifname ${quote(n.bridge)} snat to ${LOOPBACK_CLIENT_SOURCE}`);
  }
  lines.push("  }");

  // route_localnet (needed to DNAT loopback clients) would otherwise let a container reach the host's
  // 127.0.0.1-only services by sending to 127.x through its bridge (CVE-2020-8558): only DNAT'd traffic passes.
  lines.push("  chain input {", "    type filter hook input priority filter; policy accept;");
  // A bitmask test: the replies to a DNAT'd loopback client carry dnat among other status bits.
  for (const n of networks) lines.push(`    iifname ${quote(n.bridge)} ip daddr 127.0.0.0/8 ct status & dnat != dnat drop`);
  lines.push("  }");

  // Isolation: no forwarding between two of our bridges; internal networks don't leave their bridge.
  lines.push("  chain forward {", "    type filter hook forward priority filter; policy accept;");
  for (const a of networks) {
    for (const b of networks) if (a.bridge !== b.bridge) lines.push(`    iifname ${quote(a.bridge)} oifname ${quote(b.bridge)} drop`);
    if (a.internal) {
      lines.push(`    iifname ${quote(a.bridge)} oifname != ${quote(a.bridge)} drop`);
      lines.push(`    oifname ${quote(a.bridge)} iifname != ${quote(a.bridge)} drop`);
    }
  }
  lines.push("  }");
  lines.push("}");
  return lines.join("\n") + "\n";
}

export function deleteTableScript(table: string): string {
  return `table ip ${table}\ndelete table ip ${table}\n`;
}
