import { stat } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { StatsReader, type StatsDocument } from "../runtime/cgroup-stats";
import { processTable, type ProcessTable } from "../runtime/ps";
import type { EngineMonitor } from "./deps";
import type { ContainerEngine } from "./engine";
import { EngineError } from "./errors";
import { followLog, readLog, type LogEntry, type LogQuery } from "./logs";
import { isActive } from "./status";
import { StdinRelay } from "./stdin-relay";

// What goes in and out of a container while it runs: its processes (top),
// its cgroup stats, its log and attached output, its terminal size and its
// stdin. The engine owns the containers' state; this reads it.

const STATS_INTERVAL_MS = 1_000;

export class ContainerIo {
  private readonly stats: StatsReader;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly conmon: Pick<EngineMonitor, "resizeTerminal" | "openStdin">,
    cgroupVersion: 1 | 2,
  ) {
    this.stats = new StatsReader(cgroupVersion, (id) => engine.cgroupsPath(id));
  }

  /** docker top: the host's ps table, cut down to the container's processes. */
  async top(key: string, psArgs: string): Promise<ProcessTable> {
    const c = this.engine.get(key);
    if (!isActive(c.state.status)) throw new EngineError("CONFLICT", `Container ${c.id} is not running`);
    return processTable(new Set(await this.engine.pids(c.id)), psArgs);
  }

  /** One stats document (Docker's); `withPrevious` samples twice, 100 ms apart, to fill precpu_stats. */
  sample(key: string, withPrevious: boolean): Promise<StatsDocument> {
    const c = this.engine.get(key);
    return this.stats.sample({ id: c.id, name: c.name, running: isActive(c.state.status), pid: c.state.pid }, withPrevious);
  }

  /** A stats document every second, each with the one before as precpu, until `signal` aborts or the container goes. */
  async *sampleEverySecond(key: string, signal: AbortSignal): AsyncGenerator<StatsDocument> {
    const id = this.engine.get(key).id;
    let previous = await this.sample(id, false);
    while (!signal.aborted && this.engine.find(id)) {
      const waited = await sleep(STATS_INTERVAL_MS, undefined, { signal }).then(() => true, () => false);
      if (!waited || !this.engine.find(id)) return;
      const current = await this.sample(id, false);
      yield { ...current, preread: previous.read, precpu_stats: previous.cpu_stats };
      previous = current;
    }
  }

  /**
   * The container's log as `q` selects it; with `follow`, then what it writes
   * next, until it stops (or is removed) or `signal` aborts. Streams from the
   * file: a multi-GB log never sits in memory.
   */
  async *logs(key: string, q: LogQuery, options: { follow: boolean; signal: AbortSignal }): AsyncGenerator<LogEntry> {
    const id = this.engine.get(key).id;
    const file = this.engine.paths(id).log;
    const running = () => Boolean(this.engine.find(id)) && isActive(this.engine.get(id).state.status);
    const done = options.follow ? () => !running() : () => true;
    const onChange = (wake: () => void) => this.engine.subscribe((ev) => ev.Actor.ID === id && wake());
    if (q.tail === "all") {
      yield* followLog(file, 0, q, done, options.signal, onChange);
      return;
    }
    // --tail N: read to the end keeping the last N, then follow from there.
    const { entries, offset, parser } = await readLog(file, q);
    for (const e of entries) {
      if (options.signal.aborted) return;
      yield e;
    }
    if (options.follow && running()) yield* followLog(file, offset, { ...q, tail: "all" }, done, options.signal, onChange, parser);
  }

  /**
   * docker attach's output (and a build step's): what the container writes
   * from now on (its log from the current end), until it exits or is removed,
   * or `signal` aborts. "Now" is fixed when this resolves: call it before the
   * container starts or input is relayed, and nothing is missed.
   */
  async output(key: string, streams: { stdout: boolean; stderr: boolean }, signal: AbortSignal): Promise<AsyncGenerator<LogEntry>> {
    const id = this.engine.get(key).id;
    const file = this.engine.paths(id).log;
    const offset = await stat(file).then((s) => s.size, () => 0);
    let exited = false;
    const stopWatching = this.engine.subscribe((ev) => {
      if (ev.Actor.ID === id && (ev.Action === "die" || ev.Action === "destroy")) exited = true;
    });
    signal.addEventListener("abort", stopWatching, { once: true });
    const q: LogQuery = { ...streams, tail: "all", since: 0, until: 0 };
    const follow = followLog(file, offset, q, () => exited, signal, (wake) => this.engine.subscribe((ev) => ev.Actor.ID === id && wake()));
    return (async function* () {
      try {
        yield* follow;
      } finally {
        stopWatching();
      }
    })();
  }

  /** Resizes a running container's terminal (nothing to do without one). */
  async resize(key: string, height: number, width: number): Promise<void> {
    const c = this.engine.get(key);
    if (!isActive(c.state.status)) throw new EngineError("CONFLICT", `container ${c.id} is not running`);
    if (c.config.Tty) await this.conmon.resizeTerminal(this.engine.paths(c.id).controlFifo, height, width);
  }

  /**
   * A client's input → the container's stdin, until `signal` aborts. Before
   * the container runs (docker run -i attaches first), input is held until
   * it starts.
   */
  relayStdin(key: string, client: Duplex, head: Buffer | null, signal: AbortSignal): void {
    const id = this.engine.get(key).id;
    const relay = new StdinRelay(client, head);
    let target: { close(): void } | null = null;
    const connect = () => {
      if (target || signal.aborted) return;
      const opened = this.conmon.openStdin(this.engine.paths(id).attachSocket);
      target = opened;
      relay.connect(opened.stdin);
    };
    const c = this.engine.find(id);
    if (c && (c.state.status === "running" || c.state.status === "paused")) connect();
    else {
      const unsubscribe = this.engine.subscribe((ev) => {
        if (ev.Actor.ID === id && ev.Action === "start") {
          unsubscribe();
          connect();
        }
      });
      signal.addEventListener("abort", unsubscribe, { once: true });
    }
    signal.addEventListener("abort", () => target?.close(), { once: true });
  }
}
