import { open } from "node:fs/promises";
import type { ContainerPaths } from "./container-paths";
import type { ContainerRecord } from "./container-store";
import { dnsNames, extraHostsOf, hostsFile } from "./container-network";
import type { EngineNetwork } from "./deps";

// Containers' /etc/hosts as their networks change: each names the running
// containers it shares a user-defined network with (by their DNS names on
// that network: name, aliases there, short id, hostname), its --links and
// --add-hosts. So a name resolves only where the two share a network.
// Rewritten in place: it is bind-mounted.

/** How the engine's containers are looked up here. */
export interface ContainerLookup {
  byId(id: string): ContainerRecord | undefined;
  find(key: string): ContainerRecord | undefined;
  all(): Iterable<ContainerRecord>;
}

export class HostsFiles {
  constructor(
    private readonly network: EngineNetwork,
    private readonly paths: ContainerPaths,
    private readonly containers: ContainerLookup,
    /** Whether a container's endpoint on a network is still named to its peers (false while it is leaving). */
    private readonly named: (containerId: string, networkId: string) => boolean = () => true,
  ) {}

  /** Running containers sharing a user-defined network with this one (their /etc/hosts name it). */
  peersOf(id: string): ContainerRecord[] {
    const mine = new Set(this.network.endpointsOf(id).filter((e) => !this.network.find(e.networkId)?.builtin).map((e) => e.networkId));
    const out: ContainerRecord[] = [];
    for (const c of this.containers.all()) {
      if (c.id === id) continue;
      if (this.network.endpointsOf(c.id).some((e) => mine.has(e.networkId))) out.push(c);
    }
    return out;
  }

  /**
   * Rewrites the container's /etc/hosts; with `cascade`, then its peers' too.
   * `leaving`: a container about to leave a network, named there no more.
   */
  async refresh(record: ContainerRecord, cascade = true, leaving?: { id: string; networkId: string }): Promise<void> {
    // A peer being removed (its directory going away, under its own lock, not ours) is left alone.
    const current = this.containers.byId(record.id);
    if (!current || current.state.status === "removing") return;
    const eps = this.network.endpointsOf(record.id);
    const peers: { ip: string; names: string[] }[] = [];
    for (const ep of eps) {
      const n = this.network.find(ep.networkId);
      if (!n || n.builtin) continue;
      for (const otherId of this.network.members(n.id)) {
        if (otherId === record.id || !this.named(otherId, n.id)) continue;
        const other = this.containers.byId(otherId);
        const theirs = this.network.endpointsOf(otherId).find((e) => e.networkId === n.id);
        if (other && theirs) peers.push({ ip: theirs.ip, names: dnsNames(other, theirs.aliases) });
      }
    }
    for (const link of record.host.Links) {
      const [target, alias] = link.split(":") as [string, string | undefined];
      const other = this.containers.find(target.replace(/^\//, ""));
      const ip = other ? this.network.endpointsOf(other.id)[0]?.ip : undefined;
      if (other && ip) peers.push({ ip, names: [alias ?? other.name, other.name, other.id.slice(0, 12)] });
    }
    peers.push(...extraHostsOf(record));
    await rewriteExisting(this.paths.of(record.id).hosts, hostsFile({ hostname: record.config.Hostname, ip: eps[0]?.ip ?? null }, peers));
    if (cascade) await this.refreshAll(this.peersOf(record.id));
  }

  /** Each one's /etc/hosts, without cascading; one that fails doesn't stop the others. */
  async refreshAll(records: ContainerRecord[], leaving?: { id: string; networkId: string }): Promise<void> {
    for (const r of records) await this.refresh(r, false, leaving).catch(() => {});
  }
}

/**
 * Replaces the content of a file that exists, in place (it is bind-mounted
 * into the container); never creates it: a file already removed with its
 * container stays removed (recreating it raced the removal of the directory).
 */
async function rewriteExisting(file: string, content: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, "r+");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  try {
    await handle.truncate(0);
    await handle.write(content, 0, "utf8");
  } finally {
    await handle.close();
  }
}
