import "server-only";
import type { Db } from "../db";
import type { Fleet } from "../fleet/fleet";
import { gatewayMetrics } from "./registry";
import type { ScrapeState } from "./scrape";
import { latestStats } from "./stats-source";

// What one scrape reads: the hosts that exist and the firing alerts by
// severity (two small queries, in parallel), the fleet's snapshots and the
// stats collector's latest samples (memory). Nothing asks a host's agent.

export interface ScrapeSources {
  db: () => Db;
  /** This gateway's fleet, or null when it isn't running (no host series then, beyond "pending"). */
  fleet: () => Promise<Fleet | null>;
  log: (line: string) => void;
}

export async function gatherScrapeState(o: ScrapeSources): Promise<ScrapeState> {
  const db = o.db();
  const [hosts, firing, fleet] = await Promise.all([
    db.host.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } }),
    db.alert.groupBy({ by: ["severity"], where: { status: "firing" }, _count: { _all: true } }).then(
      (rows) => Object.fromEntries(rows.map((r) => [r.severity, r._count._all])),
      (e: unknown) => {
        o.log(`firing alerts could not be counted: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      },
    ),
    o.fleet().catch(() => null),
  ]);
  const stats = latestStats();
  return {
    hosts: hosts.map((h) => ({ id: h.id, name: h.name, snapshot: fleet ? fleet.snapshot(h.id) : null })),
    containerSamples: stats.containers,
    hostSamples: stats.hosts,
    reconnects: gatewayMetrics().reconnects,
    alertsFiring: firing,
  };
}
