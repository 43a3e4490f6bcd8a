import "server-only";
import { z } from "zod";
import type { ContainerSummary } from "../../fleet/agent/types";
import type { Fleet } from "../../fleet/fleet";

// One container list across every host the viewer may read, from the fleet's
// live state (kept current by each agent's event stream): filtering, sorting
// and paging happen in memory, so thousands of containers list in
// milliseconds and a down host contributes its last known list, marked stale.

export const containerQuerySchema = z.object({
  hostIds: z.array(z.string().min(1).max(64)).max(500).optional(),
  state: z.enum(["running", "exited", "created", "paused", "restarting", "dead"]).optional(),
  /** Substring of the name (case-insensitive). */
  name: z.string().max(200).optional(),
  /** Substring of the image. */
  image: z.string().max(512).optional(),
  /** key or key=value. */
  label: z.string().max(512).optional(),
  sort: z.enum(["name", "image", "state", "created", "host"]).default("name"),
  order: z.enum(["asc", "desc"]).default("asc"),
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(1).max(500).default(50),
});
export type ContainerQuery = z.infer<typeof containerQuerySchema>;

export interface FleetContainer {
  hostId: string;
  hostName: string;
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  created: number;
  ports: { ip?: string; privatePort: number; publicPort?: number; type: string }[];
  labels: Record<string, string>;
  stale: boolean;
  /** The image's id on the host. */
  imageId?: string;
  /** The tag the container was started from now points at another digest in the registry (server/watch/update-available). */
  updateAvailable: boolean;
}

function toRow(hostId: string, hostName: string, c: ContainerSummary, stale: boolean): FleetContainer {
  return {
    hostId,
    hostName,
    id: c.Id,
    name: (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, ""),
    image: c.Image,
    state: c.State,
    status: c.Status,
    created: c.Created,
    ports: (c.Ports ?? []).map((p) => ({ ip: p.IP, privatePort: p.PrivatePort, publicPort: p.PublicPort, type: p.Type })),
    labels: c.Labels ?? {},
    stale,
    imageId: c.ImageID,
    updateAvailable: false,
  };
}

function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf("=");
  if (i < 0) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, i)] === filter.slice(i + 1);
}

export function listFleetContainers(fleet: Fleet, hosts: { id: string; name: string }[], q: ContainerQuery) {
  const wanted = q.hostIds ? new Set(q.hostIds) : null;
  const rows: FleetContainer[] = [];
  const hostStates: { hostId: string; stale: boolean; known: boolean }[] = [];
  for (const h of hosts) {
    if (wanted && !wanted.has(h.id)) continue;
    const snap = fleet.snapshot(h.id);
    hostStates.push({ hostId: h.id, stale: snap.stale, known: snap.containers !== null });
    for (const c of snap.containers ?? []) rows.push(toRow(h.id, h.name, c, snap.stale));
  }
  const name = q.name?.toLowerCase();
  const image = q.image?.toLowerCase();
  const filtered = rows.filter(
    (r) =>
      (!q.state || r.state === q.state) &&
      (!name || r.name.toLowerCase().includes(name)) &&
      (!image || r.image.toLowerCase().includes(image)) &&
      (!q.label || matchesLabel(r.labels, q.label)),
  );
  const key: Record<ContainerQuery["sort"], (r: FleetContainer) => string | number> = {
    name: (r) => r.name.toLowerCase(),
    image: (r) => r.image.toLowerCase(),
    state: (r) => r.state,
    created: (r) => r.created,
    host: (r) => r.hostName.toLowerCase(),
  };
  const k = key[q.sort];
  const dir = q.order === "asc" ? 1 : -1;
  filtered.sort((a, b) => {
    const x = k(a);
    const y = k(b);
    if (x < y) return -dir;
    if (x > y) return dir;
    return a.id < b.id ? -1 : 1;
  });
  const start = (q.page - 1) * q.pageSize;
  return {
    total: filtered.length,
    page: q.page,
    pageSize: q.pageSize,
    items: filtered.slice(start, start + q.pageSize),
    hosts: hostStates,
  };
}

/** Docker's stats document → the numbers the console charts. CPU % is over the sample interval, 100% = one CPU. */
export function summariseStats(s: {
  read: string;
  cpu_stats: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}) {
  const cpuDelta = (s.cpu_stats.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus ?? 1;
  const cpuPercent = sysDelta > 0 && cpuDelta >= 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (/^read$/i.test(e.op)) read += e.value;
    if (/^write$/i.test(e.op)) write += e.value;
  }
  return {
    at: s.read,
    cpuPercent: Math.round(cpuPercent * 100) / 100,
    memoryBytes: s.memory_stats.usage ?? 0,
    memoryLimitBytes: s.memory_stats.limit ?? 0,
    netRxBytes: rx,
    netTxBytes: tx,
    blockReadBytes: read,
    blockWriteBytes: write,
    pids: s.pids_stats?.current ?? 0,
  };
}
