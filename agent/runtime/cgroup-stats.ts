import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

// Docker's stats document, read from the container's cgroups (v1 or v2) and
// from /proc/<pid>/net/dev for its network namespace. Stateless: the engine
// says which container and where its cgroup is.

const CGROUP_ROOT = "/sys/fs/cgroup";
const CLOCK_TICKS = 100;

const readText = (file: string) => readFile(file, "utf8").catch(() => "");
const readNumber = async (file: string) => {
  const t = (await readText(file)).trim();
  const n = Number(t);
  return t === "" || t === "max" || !Number.isFinite(n) ? 0 : n;
};

function keyValues(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

async function systemCpuNanos(): Promise<number> {
  const line = (await readText("/proc/stat")).split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
  return (ticks * 1e9) / CLOCK_TICKS;
}

async function networks(pid: number) {
  const text = await readText(`/proc/${pid}/net/dev`);
  const out: Record<string, { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }> = {};
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!name || !rest || name.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/).map(Number);
    out[name.trim()] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return out;
}

/** The container, as far as its stats need it. */
export interface StatsTarget {
  id: string;
  name: string;
  /** Running or paused: it has cgroups to read. */
  running: boolean;
  pid: number;
}

export type StatsDocument = Awaited<ReturnType<StatsReader["sample"]>>;

export class StatsReader {
  constructor(
    private readonly cgroupVersion: 1 | 2,
    private readonly cgroupsPath: (id: string) => string,
  ) {}

  private async raw(c: StatsTarget) {
    const rel = this.cgroupsPath(c.id);
    if (this.cgroupVersion === 2) {
      const dir = path.join(CGROUP_ROOT, rel);
      const cpu = keyValues(await readText(path.join(dir, "cpu.stat")));
      const mem = keyValues(await readText(path.join(dir, "memory.stat")));
      const io = await readText(path.join(dir, "io.stat"));
      let read = 0;
      let write = 0;
      for (const line of io.split("\n")) {
        read += Number(/rbytes=(\d+)/.exec(line)?.[1] ?? 0);
        write += Number(/wbytes=(\d+)/.exec(line)?.[1] ?? 0);
      }
      return {
        cpuTotal: (cpu.get("usage_usec") ?? 0) * 1000,
        cpuUser: (cpu.get("user_usec") ?? 0) * 1000,
        cpuSystem: (cpu.get("system_usec") ?? 0) * 1000,
        memUsage: await readNumber(path.join(dir, "memory.current")),
        memLimit: (await readNumber(path.join(dir, "memory.max"))) || os.totalmem(),
        memStats: Object.fromEntries(mem),
        pids: await readNumber(path.join(dir, "pids.current")),
        pidsLimit: await readNumber(path.join(dir, "pids.max")),
        ioRead: read,
        ioWrite: write,
      };
    }
    const at = (controller: string, file: string) => path.join(CGROUP_ROOT, controller, rel, file);
    const mem = keyValues(await readText(at("memory", "memory.stat")));
    const limit = await readNumber(at("memory", "memory.limit_in_bytes"));
    let read = 0;
    let write = 0;
    for (const line of (await readText(at("blkio", "blkio.throttle.io_service_bytes"))).split("\n")) {
      const [, op, v] = line.trim().split(/\s+/);
      if (op === "Read") read += Number(v);
      if (op === "Write") write += Number(v);
    }
    const acct = keyValues(await readText(at("cpuacct", "cpuacct.stat")));
    return {
      cpuTotal: await readNumber(at("cpuacct", "cpuacct.usage")),
      cpuUser: ((acct.get("user") ?? 0) * 1e9) / CLOCK_TICKS,
      cpuSystem: ((acct.get("system") ?? 0) * 1e9) / CLOCK_TICKS,
      memUsage: await readNumber(at("memory", "memory.usage_in_bytes")),
      memLimit: limit > 0 && limit < 2 ** 62 ? limit : os.totalmem(),
      memStats: Object.fromEntries([...mem].map(([k, v]) => [k.replace(/^total_/, ""), v])),
      pids: await readNumber(at("pids", "pids.current")),
      pidsLimit: await readNumber(at("pids", "pids.max")),
      ioRead: read,
      ioWrite: write,
    };
  }

  /** One stats document; with `withPrevious`, a first sample 100 ms earlier fills precpu_stats (as docker stats --no-stream needs). */
  async sample(c: StatsTarget, withPrevious: boolean) {
    const running = c.running;
    const first = withPrevious && running ? await this.cpuSample(c) : null;
    if (first) await new Promise((r) => setTimeout(r, 100));
    const r = running ? await this.raw(c) : null;
    const system = await systemCpuNanos();
    const cpus = os.availableParallelism();
    const cpu_stats = {
      cpu_usage: { total_usage: r?.cpuTotal ?? 0, usage_in_kernelmode: r?.cpuSystem ?? 0, usage_in_usermode: r?.cpuUser ?? 0 },
      system_cpu_usage: system,
      online_cpus: cpus,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    };
    return {
      read: new Date().toISOString(),
      preread: first ? first.at : "0001-01-01T00:00:00Z",
      name: `/${c.name}`,
      id: c.id,
      num_procs: 0,
      pids_stats: r ? { current: r.pids, ...(r.pidsLimit ? { limit: r.pidsLimit } : {}) } : {},
      cpu_stats,
      precpu_stats: first
        ? { cpu_usage: { total_usage: first.total, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: first.system, online_cpus: cpus, throttling_data: cpu_stats.throttling_data }
        : { cpu_usage: { total_usage: 0 }, throttling_data: cpu_stats.throttling_data },
      memory_stats: r ? { usage: r.memUsage, limit: r.memLimit, stats: r.memStats } : {},
      blkio_stats: {
        io_service_bytes_recursive: r ? [{ major: 0, minor: 0, op: "read", value: r.ioRead }, { major: 0, minor: 0, op: "write", value: r.ioWrite }] : null,
      },
      networks: running && c.pid ? await networks(c.pid) : {},
      storage_stats: {},
    };
  }

  private async cpuSample(c: StatsTarget) {
    const r = await this.raw(c);
    return { total: r.cpuTotal, system: await systemCpuNanos(), at: new Date().toISOString() };
  }
}
