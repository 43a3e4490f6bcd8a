import { type Confinement, isConfining } from "../../lib/confinement";
import type { MadeHow } from "../../lib/image-provenance";
import { randomBytes } from "node:crypto";
import { existsSync, watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { ImageService } from "../images/image-service";
import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import { writeFileAtomic } from "../state/atomic-write";
import type { Conmon } from "../runtime/conmon";
import type { Runc } from "../runtime/runc";
import { StatsReader, type StatsDocument, type StatsTarget } from "../runtime/cgroup-stats";
import { processTable, type ProcessTable } from "../runtime/ps";
import { StdinRelay } from "./stdin-relay";
import { followLog, readLog, type LogEntry, type LogQuery } from "./logs";
import { buildRuntimeSpec, specToJson, type HostLimits, type OciMount } from "../runtime/spec";
import { type ContainerRecord, ContainerStore, type HostSettings } from "./container-store";
import type { CreateRequest } from "../../lib/docker/create-request";
import { validateContainerName } from "../../lib/docker/create-request";
import { EngineError } from "./errors";
import type { EventBus } from "./events";
import { mergeContainerConfig, processEnv } from "./merge-config";
import { isMountPoint } from "./mounts";
import { generateName } from "./names";
import { resolveUser } from "./resolve-user";
import { canKill, canPause, canRemove, canStart, canUnpause, isActive, type Status } from "./status";
import { signalNumber } from "./signals";
import { hostSettingsFrom } from "./host-settings";
import { directoryToTar } from "../build/layer-tar";
import type { NetworkManager } from "../network/manager";
import type { VolumeStore } from "../volumes/store";
import { ociMounts, prepareMounts } from "./container-mounts";
import { checkConfinement } from "./confinement";
import { type BindStage, unstage } from "./confined-bind";
import { attachmentsFor, extraHostsOf, hostsFile, portBindingsOf } from "./container-network";

// The container engine. It owns every container's state; the runtime
// adapters (runc, conmon) are stateless. Each operation: lock → reconcile
// with runc and the exit file → guard → act → save atomically → event.

export interface EngineDeps {
  root: string;
  /** Runtime state on tmpfs (runc's root, exit files, pid files): cleared by a reboot. */
  execRoot: string;
  images: ImageService;
  snapshots: OverlaySnapshotter;
  runc: Runc;
  conmon: Conmon;
  events: EventBus;
  hostLimits: HostLimits;
  cgroupVersion: 1 | 2;
  bootId: string;
  /** cgroupfs parent for containers (e.g. "berth"); per agent so tests don't collide. */
  cgroupParent: string;
  network: NetworkManager;
  volumes: VolumeStore;
}

export type WaitCondition = "not-running" | "next-exit" | "removed";

interface Waiter {
  condition: WaitCondition;
  resolve: (r: { StatusCode: number; Error: { Message: string } | null }) => void;
  reject: (e: unknown) => void;
}

const MIN_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 60_000;
/** A container that ran this long before exiting restarts without backoff (Docker resets after 10 s). */
const RESTART_RESET_MS = 10_000;
const EXIT_POLL_MS = 2_000;
const STATS_INTERVAL_MS = 1_000;

export class ContainerEngine {
  private readonly store: ContainerStore;
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly restartDelay = new Map<string, number>();
  /** Containers being created, and the volumes they are about to use. */
  private readonly creating = new Map<string, string[]>();
  /** remove() asked for the container's anonymous volumes to go too. */
  private readonly removeVolumes = new Map<string, boolean>();
  /** Containers whose root filesystem this agent has seen mounted (saves reading mountinfo on every start). */
  private readonly mounted = new Set<string>();
  private readonly exitDir: string;
  private readonly statsReader: StatsReader;
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: EngineDeps) {
    this.store = new ContainerStore(deps.root);
    this.exitDir = path.join(deps.execRoot, "exits");
    this.statsReader = new StatsReader(deps.cgroupVersion, (id) => this.cgroupsPath(id));
  }

  // ---- start-up and shutdown ----

  /** Loads every container, re-adopts the running ones, settles those that died while we were away. */
  async init(): Promise<void> {
    await this.store.init();
    await mkdir(this.exitDir, { recursive: true, mode: 0o700 });
    await mkdir(this.deps.runc.root, { recursive: true, mode: 0o700 });
    const { records, orphans } = await this.store.loadAll();
    for (const id of orphans) await this.store.removeDir(id);
    for (const record of records) {
      if (record.state.status === "removing") {
        // A remove that crashed midway finishes now.
        this.containers.set(record.id, record);
        await this.finishRemove(record).catch(() => {});
        continue;
      }
      this.containers.set(record.id, record);
    }
    // Addresses and ports of containers that stopped while we were away are released here.
    await this.deps.network.init((id) => {
      const r = this.containers.get(id);
      return Boolean(r && isActive(r.state.status) && r.state.bootId === this.deps.bootId);
    });
    this.deps.images.setImageInUse((imageId) => [...this.containers.values()].filter((c) => c.imageId === imageId).map((c) => c.id));
    this.watcher = watch(this.exitDir, (_event, file) => {
      if (file && this.containers.has(String(file))) void this.onExit(String(file));
    });
    this.watcher.on("error", () => {});
    const rebooted: ContainerRecord[] = [];
    for (const record of [...this.containers.values()]) {
      if (!isActive(record.state.status)) continue;
      if (record.state.bootId !== this.deps.bootId) rebooted.push(record);
      else await this.onExit(record.id);
    }
    // After a reboot, containers that should be up come back (Docker's restart on daemon start).
    for (const record of rebooted) {
      await this.withLock(record.id, async () => {
        record.state = { ...record.state, status: "exited", pid: 0, exitCode: 255, finishedAt: new Date().toISOString() };
        await this.store.save(record);
      });
      const policy = record.host.RestartPolicy.Name;
      if (policy === "always" || (policy === "unless-stopped" && !record.state.manuallyStopped)) {
        await this.start(record.id).catch(() => {});
      }
    }
    // inotify can miss events (e.g. the directory was replaced); a slow poll backs it up.
    this.poller = setInterval(() => void this.pollExits(), EXIT_POLL_MS);
    this.poller.unref();
  }

  /** Stops watching. Containers keep running: conmon holds them. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    for (const t of this.restartTimers.values()) clearTimeout(t);
    for (const list of this.waiters.values()) for (const w of list) w.reject(new EngineError("INTERNAL", "the agent is shutting down"));
    this.waiters.clear();
  }

  // ---- queries ----

  list(): ContainerRecord[] {
    return [...this.containers.values()].sort((a, b) => b.created.localeCompare(a.created));
  }

  /** By full id, name (with or without "/"), or unique id prefix — Docker's lookup order. */
  get(key: string): ContainerRecord {
    const record = this.find(key);
    if (!record) throw new EngineError("NOT_FOUND", `No such container: ${key}`);
    return record;
  }

  find(key: string): ContainerRecord | undefined {
    const exact = this.containers.get(key);
    if (exact) return exact;
    const name = key.replace(/^\//, "");
    for (const c of this.containers.values()) if (c.name === name) return c;
    if (!/^[a-f0-9]+$/.test(key)) return undefined;
    const matches = [...this.containers.values()].filter((c) => c.id.startsWith(key));
    if (matches.length > 1) throw new EngineError("NOT_FOUND", `multiple containers found with provided prefix: ${key}`);
    return matches[0];
  }

  paths(id: string) {
    const dir = this.store.containerDir(id);
    const run = path.join(this.deps.execRoot, id);
    return {
      dir,
      bundle: path.join(dir, "bundle"),
      rootfs: path.join(dir, "rootfs"),
      upper: path.join(dir, "upper"),
      work: path.join(dir, "work"),
      log: path.join(dir, "ctr.log"),
      persist: path.join(dir, "conmon"),
      hostname: path.join(dir, "hostname"),
      hosts: path.join(dir, "hosts"),
      resolvConf: path.join(dir, "resolv.conf"),
      run,
      pidFile: path.join(run, "pidfile"),
      conmonPidFile: path.join(run, "conmon.pid"),
      runtimeLog: path.join(run, "oci-log"),
      exitFile: path.join(this.exitDir, id),
    };
  }

  /** conmon links <socketDir>/<id> to the bundle; short, since a unix socket path has 107 bytes at most. */
  get socketDir(): string {
    return path.join(this.deps.execRoot, "s");
  }

  /** conmon's SEQPACKET attach socket (stdin in, output out) and resize FIFO. */
  attachSocket(id: string): string {
    return path.join(this.socketDir, id, "attach");
  }

  controlFifo(id: string): string {
    return path.join(this.paths(id).bundle, "ctl");
  }

  subscribe(listener: Parameters<EventBus["subscribe"]>[0]): () => void {
    return this.deps.events.subscribe(listener);
  }

  /** Host PIDs of the container's processes. */
  pids(id: string): Promise<number[]> {
    return this.deps.runc.pids(id);
  }

  cgroupsPath(id: string): string {
    return `/${this.deps.cgroupParent}/${id}`;
  }

  // ---- what runs inside: processes, stats, terminal, stdin ----

  /** docker top: the host's ps table, cut down to the container's processes. */
  async top(key: string, psArgs: string): Promise<ProcessTable> {
    const c = this.get(key);
    if (!isActive(c.state.status)) throw new EngineError("CONFLICT", `Container ${c.id} is not running`);
    return processTable(new Set(await this.pids(c.id)), psArgs);
  }

  /** One stats document (Docker's); `withPrevious` samples twice, 100 ms apart, to fill precpu_stats. */
  stats(key: string, withPrevious: boolean): Promise<StatsDocument> {
    return this.statsReader.sample(this.statsTarget(this.get(key)), withPrevious);
  }

  /** A stats document every second, each with the one before as precpu, until `signal` aborts or the container goes. */
  async *statsStream(key: string, signal: AbortSignal): AsyncGenerator<StatsDocument> {
    const id = this.get(key).id;
    let previous = await this.stats(id, false);
    while (!signal.aborted && this.find(id)) {
      const waited = await sleep(STATS_INTERVAL_MS, undefined, { signal }).then(() => true, () => false);
      if (!waited || !this.find(id)) return;
      const current = await this.stats(id, false);
      yield { ...current, preread: previous.read, precpu_stats: previous.cpu_stats };
      previous = current;
    }
  }

  private statsTarget(c: ContainerRecord): StatsTarget {
    return { id: c.id, name: c.name, running: isActive(c.state.status), pid: c.state.pid };
  }

  /**
   * The container's log as `q` selects it; with `follow`, then what it writes
   * next, until it stops (or is removed) or `signal` aborts. Streams from the
   * file: a multi-GB log never sits in memory.
   */
  async *logs(key: string, q: LogQuery, options: { follow: boolean; signal: AbortSignal }): AsyncGenerator<LogEntry> {
    const id = this.get(key).id;
    const file = this.paths(id).log;
    const running = () => Boolean(this.find(id)) && isActive(this.get(id).state.status);
    const done = options.follow ? () => !running() : () => true;
    const onChange = (wake: () => void) => this.subscribe((ev) => ev.Actor.ID === id && wake());
    if (q.tail === "all") {
      yield* followLog(file, 0, q, done, options.signal, onChange);
      return;
    }
    // --tail N: read to the end keeping the last N, then follow from there.
    const { entries, offset, parser } = await readLog(file, q);
    yield* entries;
    if (options.follow && running()) yield* followLog(file, offset, { ...q, tail: "all" }, done, options.signal, onChange, parser);
  }

  /**
   * docker attach's output: what the container writes from now on (the log
   * from its current end), until it exits or is removed, or `signal` aborts.
   * Where "now" is, is fixed when this resolves, before any input is relayed.
   */
  async attachOutput(key: string, streams: { stdout: boolean; stderr: boolean }, signal: AbortSignal): Promise<AsyncGenerator<LogEntry>> {
    const id = this.get(key).id;
    const file = this.paths(id).log;
    const offset = await stat(file).then((s) => s.size, () => 0);
    let exited = false;
    const stopWatching = this.subscribe((ev) => {
      if (ev.Actor.ID === id && (ev.Action === "die" || ev.Action === "destroy")) exited = true;
    });
    signal.addEventListener("abort", stopWatching, { once: true });
    const q: LogQuery = { ...streams, tail: "all", since: 0, until: 0 };
    const follow = followLog(file, offset, q, () => exited, signal, (wake) => this.subscribe((ev) => ev.Actor.ID === id && wake()));
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
    const c = this.get(key);
    if (!isActive(c.state.status)) throw new EngineError("CONFLICT", `container ${c.id} is not running`);
    if (c.config.Tty) await this.deps.conmon.resizeTerminal(this.controlFifo(c.id), height, width);
  }

  /**
   * A client's input → the container's stdin, until `signal` aborts. Before
   * the container runs (docker run -i attaches first), input is held until
   * it starts.
   */
  relayStdin(id: string, client: Duplex, head: Buffer | null, signal: AbortSignal): void {
    const relay = new StdinRelay(client, head);
    let target: { close(): void } | null = null;
    const connect = () => {
      if (target || signal.aborted) return;
      const opened = this.deps.conmon.openStdin(this.attachSocket(id));
      target = opened;
      relay.connect(opened.stdin);
    };
    const c = this.find(id);
    if (c && (c.state.status === "running" || c.state.status === "paused")) connect();
    else {
      const unsubscribe = this.subscribe((ev) => {
        if (ev.Actor.ID === id && ev.Action === "start") {
          unsubscribe();
          connect();
        }
      });
      signal.addEventListener("abort", unsubscribe, { once: true });
    }
    signal.addEventListener("abort", () => target?.close(), { once: true });
  }

  // ---- lifecycle ----

  async create(request: CreateRequest, options: { name?: string; confinement?: Confinement } = {}): Promise<{ id: string; warnings: string[] }> {
    const cfg = request;
    const imageKey = cfg.Image;
    if (!imageKey) throw new EngineError("INVALID", "config: image is required (Config.Image is empty)");
    let name: string;
    if (options.name) {
      validateContainerName(options.name);
      name = options.name.replace(/^\//, "");
    } else {
      name = generateName((n) => this.nameTaken(n));
    }
    const image = this.deps.images.resolve(imageKey);
    const imageChainId = image.layers.at(-1)?.chainId;
    if (!imageChainId) throw new EngineError("INVALID", `image ${imageKey} has no layers`);
    const details = await this.deps.images.inspect(image.id);
    const host: HostSettings = hostSettingsFrom(request.HostConfig ?? {});
    const confinement = isConfining(options.confinement) ? options.confinement : undefined;
    if (confinement) checkConfinement(confinement, imageKey, image, host);
    const id = randomBytes(32).toString("hex");
    const merged = mergeContainerConfig(details.config.config, request);
    const networks = attachmentsFor(request, this.deps.network);
    for (const link of host.Links) {
      const target = link.split(":")[0]!.replace(/^\//, "");
      if (!this.find(target)) throw new EngineError("INVALID", `could not get container for ${target}`);
    }
    const hostname = request.Hostname || id.slice(0, 12);
    // Checked before anything is written, so a refused request leaves nothing behind.
    buildRuntimeSpec(this.specInput(id, host, { args: [merged.path, ...merged.args], env: [], cwd: "/", uid: 0, gid: 0, additionalGids: [], terminal: Boolean(request.Tty) }, hostname));

    return this.withLock(`name:${name}`, async () => {
      const holder = [...this.containers.values()].find((c) => c.name === name);
      if (holder) {
        throw new EngineError("CONFLICT", `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      // Claimed before they exist, so a concurrent volume rm/prune can't take them between create and save.
      this.creating.set(id, [...host.Binds.map((b) => b.split(":")[0]!), ...host.Mounts.map((m) => m.Source ?? "")].filter((n) => n && !n.startsWith("/")));
      let prepared: Awaited<ReturnType<typeof prepareMounts>>;
      try {
        prepared = await prepareMounts(host, Object.keys(merged.Volumes), this.deps.volumes);
      } catch (e) {
        this.creating.delete(id);
        throw e;
      }
      const { mounts, created: createdVolumes } = prepared;
      this.creating.set(id, mounts.filter((m) => m.type === "volume").map((m) => m.source));
      const record: ContainerRecord = {
        id,
        name,
        networks,
        mounts,
        ...(confinement ? { confinement } : {}),
        created: new Date().toISOString(),
        imageId: image.id,
        imageChainId,
        path: merged.path,
        args: merged.args,
        config: {
          Hostname: hostname,
          Domainname: request.Domainname ?? "",
          User: merged.User,
          AttachStdin: Boolean(request.AttachStdin),
          AttachStdout: Boolean(request.AttachStdout),
          AttachStderr: Boolean(request.AttachStderr),
          ExposedPorts: merged.ExposedPorts,
          Tty: Boolean(request.Tty),
          OpenStdin: Boolean(request.OpenStdin),
          StdinOnce: Boolean(request.StdinOnce),
          Env: merged.Env,
          Cmd: merged.Cmd,
          Image: imageKey,
          Volumes: merged.Volumes,
          WorkingDir: merged.WorkingDir,
          Entrypoint: merged.Entrypoint,
          Labels: merged.Labels,
          StopSignal: merged.StopSignal,
          StopTimeout: request.StopTimeout ?? null,
          Healthcheck: merged.Healthcheck,
        },
        host,
        state: {
          status: "created",
          pid: 0,
          exitCode: 0,
          error: "",
          oomKilled: false,
          startedAt: "0001-01-01T00:00:00Z",
          finishedAt: "0001-01-01T00:00:00Z",
          manuallyStopped: false,
          restartCount: 0,
          bootId: this.deps.bootId,
        },
      };
      const p = this.paths(id);
      try {
        await mkdir(p.dir, { mode: 0o700 });
        await Promise.all([mkdir(p.bundle), mkdir(p.rootfs), mkdir(p.upper), mkdir(p.work), mkdir(p.persist)]);
        await this.writeEtcFiles(record);
        await this.store.save(record);
      } catch (e) {
        await this.store.removeDir(id);
        for (const v of createdVolumes) await this.deps.volumes.remove(v, []).catch(() => {});
        this.creating.delete(id);
        throw e;
      }
      this.containers.set(id, record);
      this.creating.delete(id);
      this.emit(record, "create");
      // Mount the root filesystem now, while the client attaches and asks to
      // start (start waits for it); a failure here is retried, and reported, by start.
      void this.withLock(id, () => this.ensureMounted(record)).catch(() => {});
      return { id, warnings: [] };
    });
  }

  async start(key: string): Promise<void> {
    const id = this.get(key).id;
    let failure: unknown = null;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (record.state.status === "running" || record.state.status === "paused") {
        throw new EngineError("NOT_MODIFIED", "container already started");
      }
      if (!canStart(record.state.status) && record.state.status !== "restarting") {
        throw new EngineError("CONFLICT", `cannot start container ${record.id} in state ${record.state.status}`);
      }
      this.cancelRestart(id);
      try {
        await this.launch(record);
      } catch (e) {
        failure = e;
      }
    });
    if (failure) {
      const record = this.containers.get(id);
      if (record?.host.AutoRemove) await this.remove(id, { force: true }).catch(() => {});
      throw failure;
    }
  }

  /** Sends the stop signal, waits up to the timeout, then SIGKILL. */
  async stop(key: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    const record = this.get(key);
    const id = record.id;
    const running = await this.withLock(id, async () => {
      const current = await this.reconcile(id);
      this.cancelRestart(id);
      if (current.state.status === "restarting") {
        current.state = { ...current.state, status: "exited", manuallyStopped: true };
        await this.store.save(current);
        return false;
      }
      if (!canKill(current.state.status)) return false;
      current.state = { ...current.state, manuallyStopped: true };
      await this.store.save(current);
      if (current.state.status === "paused") await this.deps.runc.resume(id).catch(() => {});
      const signal = signalNumber(options.signal || current.config.StopSignal || "SIGTERM");
      await this.deps.runc.kill(id, signal).catch(() => {});
      this.emit(current, "kill", { signal: String(signal) });
      return true;
    });
    if (!running) {
      if (record.state.status === "exited" || record.state.status === "created") throw new EngineError("NOT_MODIFIED", "container already stopped");
      return;
    }
    const timeout = options.timeout ?? record.config.StopTimeout ?? 10;
    const exited = this.waitFor(id, "not-running");
    if (!(timeout < 0 ? await exited.then(() => true) : await raceTimeout(exited, timeout * 1000))) {
      await this.withLock(id, async () => {
        const current = await this.reconcile(id);
        if (!canKill(current.state.status)) return;
        await this.deps.runc.kill(id, "KILL", true).catch(() => {});
        this.emit(current, "kill", { signal: "9" });
      });
      if (!(await raceTimeout(exited, 30_000))) throw new EngineError("INTERNAL", `container ${id} did not exit after SIGKILL`);
    }
    const after = this.containers.get(id);
    if (after) this.emit(after, "stop");
  }

  async kill(key: string, signal = "SIGKILL"): Promise<void> {
    const id = this.get(key).id;
    const number = signalNumber(signal);
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (!canKill(record.state.status)) throw new EngineError("CONFLICT", `Cannot kill container: ${record.id}: container ${record.id} is not running`);
      if (number === 9 || number === signalNumber(record.config.StopSignal || "SIGTERM")) {
        record.state = { ...record.state, manuallyStopped: true };
        await this.store.save(record);
      }
      await this.deps.runc.kill(id, number);
      this.emit(record, "kill", { signal: String(number) });
    });
  }

  async restart(key: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    const id = this.get(key).id;
    await this.stop(id, options).catch((e: unknown) => {
      if (!(e instanceof EngineError && e.code === "NOT_MODIFIED")) throw e;
    });
    await this.start(id);
    const record = this.containers.get(id);
    if (record) this.emit(record, "restart");
  }

  async pause(key: string): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (!canPause(record.state.status)) throw new EngineError("CONFLICT", `Container ${record.id} is not running`);
      await this.deps.runc.pause(id);
      record.state = { ...record.state, status: "paused" };
      await this.store.save(record);
      this.emit(record, "pause");
    });
  }

  async unpause(key: string): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (!canUnpause(record.state.status)) throw new EngineError("CONFLICT", `Container ${record.id} is not paused`);
      await this.deps.runc.resume(id);
      record.state = { ...record.state, status: "running" };
      await this.store.save(record);
      this.emit(record, "unpause");
    });
  }

  async rename(key: string, newName: string): Promise<void> {
    validateContainerName(newName);
    const name = newName.replace(/^\//, "");
    const id = this.get(key).id;
    await this.withLock(`name:${name}`, () =>
      this.withLock(id, async () => {
        const holder = [...this.containers.values()].find((c) => c.name === name);
        if (holder && holder.id !== id) throw new EngineError("CONFLICT", `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
        const record = this.containers.get(id)!;
        const oldName = record.name;
        record.name = name;
        await this.store.save(record);
        this.emit(record, "rename", { oldName: `/${oldName}` });
      }),
    );
  }

  async remove(key: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const id = this.get(key).id;
    const force = Boolean(options.force);
    this.removeVolumes.set(id, Boolean(options.volumes));
    const wasActive = await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (!canRemove(record.state.status, force)) {
        if (record.state.status === "removing") throw new EngineError("CONFLICT", `removal of container ${id} is already in progress`);
        throw new EngineError("CONFLICT", `You cannot remove a ${record.state.status} container ${id}. Stop the container before attempting removal or force remove`);
      }
      this.cancelRestart(id);
      if (record.state.status === "restarting") {
        // Waiting out a restart delay: there is no process to kill.
        record.state = { ...record.state, status: "exited", manuallyStopped: true };
        await this.store.save(record);
        return false;
      }
      if (!isActive(record.state.status)) return false;
      record.state = { ...record.state, manuallyStopped: true };
      await this.store.save(record);
      if (record.state.status === "paused") await this.deps.runc.resume(id).catch(() => {});
      await this.deps.runc.kill(id, "KILL", true).catch(() => {});
      return true;
    });
    if (wasActive) await raceTimeout(this.waitFor(id, "not-running"), 30_000);
    await this.withLock(id, async () => {
      const record = this.containers.get(id);
      if (!record) return;
      if (isActive(record.state.status)) await this.deps.runc.delete(id, true);
      record.state = { ...record.state, status: "removing" };
      await this.store.save(record);
      await this.finishRemove(record);
    });
  }

  /** Resolves when the condition holds: Docker's POST /containers/{id}/wait. */
  async wait(key: string, condition: WaitCondition = "not-running"): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const id = this.get(key).id;
    return this.waitFor(id, condition);
  }

  private waitFor(id: string, condition: WaitCondition): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const record = this.containers.get(id);
    if (!record) {
      if (condition === "removed") return Promise.resolve({ StatusCode: 0, Error: null });
      return Promise.reject(new EngineError("NOT_FOUND", `No such container: ${id}`));
    }
    if (condition === "not-running" && !isActive(record.state.status)) {
      return Promise.resolve({ StatusCode: record.state.exitCode, Error: null });
    }
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ condition, resolve, reject });
      this.waiters.set(id, list);
    });
  }

  // ---- internals ----

  private nameTaken(name: string): boolean {
    for (const c of this.containers.values()) if (c.name === name) return true;
    return false;
  }

  private emit(record: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const attributes: Record<string, string> = { name: record.name, image: record.config.Image, ...record.config.Labels, ...extra };
    this.deps.events.emit("container", action, record.id, attributes);
  }

  /** Runs `task` holding the lock for `key`; tasks on one key run one at a time. */
  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }

  /**
   * Brings the record in line with reality (call under the lock): an active
   * container whose runc state is stopped or gone, or whose exit file exists,
   * has exited.
   */
  private async reconcile(id: string): Promise<ContainerRecord> {
    const record = this.containers.get(id);
    if (!record) throw new EngineError("NOT_FOUND", `No such container: ${id}`);
    if (!isActive(record.state.status) || record.state.status === "restarting") return record;
    const exitFileThere = existsSync(this.paths(id).exitFile);
    const state = exitFileThere ? null : await this.deps.runc.state(id);
    if (state && (state.status === "running" || state.status === "paused")) {
      const status: Status = state.status === "paused" ? "paused" : "running";
      if (record.state.status !== status) {
        record.state = { ...record.state, status };
        await this.store.save(record);
      }
      return record;
    }
    await this.settleExit(record);
    return record;
  }

  /** The exit watcher's entry point: settle the exit, then apply AutoRemove or the restart policy. */
  private async onExit(id: string): Promise<void> {
    if (this.closed || !this.containers.has(id)) return;
    let exited: ContainerRecord | null = null;
    await this.withLock(id, async () => {
      const record = this.containers.get(id);
      if (!record || !isActive(record.state.status) || record.state.status === "restarting") return;
      const exitFileThere = existsSync(this.paths(id).exitFile);
      if (!exitFileThere) {
        const state = await this.deps.runc.state(id);
        if (state && (state.status === "running" || state.status === "paused")) return;
      }
      await this.settleExit(record);
      exited = record;
    }).catch(() => {});
    if (exited) await this.afterExit(exited);
  }

  private async pollExits(): Promise<void> {
    const names = new Set(await readdir(this.exitDir).catch(() => [] as string[]));
    for (const record of this.containers.values()) {
      if (isActive(record.state.status) && record.state.status !== "restarting" && names.has(record.id)) void this.onExit(record.id);
    }
  }

  /** Records the exit (code, OOM), releases runc's copy, wakes waiters. Under the lock. */
  private async settleExit(record: ContainerRecord): Promise<void> {
    const p = this.paths(record.id);
    const code = await readFile(p.exitFile, "utf8").then((s) => Number.parseInt(s.trim(), 10), () => null);
    const persisted = code ?? (await readFile(path.join(p.persist, "exit"), "utf8").then((s) => Number.parseInt(s.trim(), 10), () => null));
    const oom = existsSync(path.join(p.persist, "oom"));
    record.state = {
      ...record.state,
      status: "exited",
      pid: 0,
      exitCode: Number.isFinite(persisted) && persisted !== null ? persisted : 255,
      oomKilled: oom,
      finishedAt: new Date().toISOString(),
    };
    await this.store.save(record);
    if (oom) this.emit(record, "oom");
    this.emit(record, "die", { exitCode: String(record.state.exitCode) });
    this.settleWaiters(record, ["not-running", "next-exit"]);
    // Clean-up after the news: whoever waits for the exit doesn't wait for it.
    // runc's record (and cgroup) goes; still under the lock, so a restart can't race it.
    await this.deps.runc.delete(record.id, true).catch(() => {});
    const peersOf = this.networkPeers(record.id);
    await this.deps.network.release(record.id).catch(() => {});
    for (const peer of peersOf) await this.refreshHosts(peer).catch(() => {});
    await rm(p.exitFile, { force: true });
    await rm(path.join(p.persist, "oom"), { force: true });
    await rm(path.join(p.persist, "exit"), { force: true });
  }

  private settleWaiters(record: ContainerRecord, conditions: WaitCondition[]): void {
    const list = this.waiters.get(record.id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const w of list) {
      if (conditions.includes(w.condition)) w.resolve({ StatusCode: record.state.exitCode, Error: null });
      else keep.push(w);
    }
    if (keep.length) this.waiters.set(record.id, keep);
    else this.waiters.delete(record.id);
  }

  private async afterExit(record: ContainerRecord): Promise<void> {
    if (record.host.AutoRemove) {
      await this.remove(record.id, { force: true }).catch(() => {});
      return;
    }
    const policy = record.host.RestartPolicy;
    const failed = record.state.exitCode !== 0;
    const wanted =
      !record.state.manuallyStopped &&
      (policy.Name === "always" ||
        policy.Name === "unless-stopped" ||
        (policy.Name === "on-failure" && failed && (policy.MaximumRetryCount <= 0 || record.state.restartCount < policy.MaximumRetryCount)));
    if (!wanted || this.closed) return;
    const ranFor = Date.now() - Date.parse(record.state.startedAt);
    const previous = this.restartDelay.get(record.id);
    const delay = ranFor >= RESTART_RESET_MS || previous === undefined ? MIN_RESTART_DELAY_MS : Math.min(previous * 2, MAX_RESTART_DELAY_MS);
    this.restartDelay.set(record.id, delay);
    await this.withLock(record.id, async () => {
      if (record.state.status !== "exited") return;
      record.state = { ...record.state, status: "restarting" };
      await this.store.save(record);
    });
    const timer = setTimeout(() => {
      this.restartTimers.delete(record.id);
      void this.withLock(record.id, async () => {
        const current = this.containers.get(record.id);
        if (!current || current.state.status !== "restarting") return;
        current.state = { ...current.state, restartCount: current.state.restartCount + 1 };
        try {
          await this.launch(current);
        } catch {
          current.state = { ...current.state, status: "exited" };
          await this.store.save(current);
        }
      }).catch(() => {});
    }, delay);
    timer.unref();
    this.restartTimers.set(record.id, timer);
  }

  private cancelRestart(id: string): void {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  /** Mounts the rootfs, writes the bundle, has conmon create it and runc start it. Under the lock. */
  private async launch(record: ContainerRecord): Promise<void> {
    const id = record.id;
    const p = this.paths(id);
    await mkdir(p.run, { recursive: true, mode: 0o700 });
    await mkdir(this.socketDir, { recursive: true, mode: 0o700 });
    await rm(path.join(this.socketDir, id), { force: true });
    await rm(p.exitFile, { force: true });
    await rm(p.runtimeLog, { force: true });
    // runc's copy of an earlier run is deleted when that run's exit is settled (and again on failure below).
    await this.ensureMounted(record);
    let stages: BindStage[] = [];
    try {
      const { uid, gid, additionalGids } = await resolveUser(p.rootfs, record.config.User);
      const { mounts: extraMounts, stages: bindStages } = await ociMounts(record.mounts, p.rootfs, this.deps.volumes, record.confinement?.bindPrefixes ? { prefixes: record.confinement.bindPrefixes, stageDir: path.join(p.run, "binds") } : undefined);
      stages = bindStages;
      const ports = record.networks.length ? await this.deps.network.resolvePorts(id, portBindingsOf(record)) : [];
      const spec = buildRuntimeSpec(
        this.specInput(
          id,
          record.host,
          {
            args: [record.path, ...record.args],
            env: processEnv(record.config.Env, { hostname: record.config.Hostname, tty: record.config.Tty }),
            cwd: record.config.WorkingDir || "/",
            uid,
            gid,
            additionalGids,
            terminal: record.config.Tty,
          },
          record.config.Hostname,
          extraMounts,
        ),
      );
      spec.mounts.push(
        { destination: "/etc/resolv.conf", type: "bind", source: p.resolvConf, options: ["rbind", "rprivate"] },
        { destination: "/etc/hostname", type: "bind", source: p.hostname, options: ["rbind", "rprivate"] },
        { destination: "/etc/hosts", type: "bind", source: p.hosts, options: ["rbind", "rprivate"] },
      );
      // Rewritten on every start, so no fsync: a crash just means the next start writes it again.
      await writeFile(path.join(p.bundle, "config.json"), specToJson(spec), { mode: 0o600 });
      await mkdir(p.rootfs + "/dev", { recursive: true }).catch(() => {});
      const pid = await this.createWithConmon(record);
      // runc has made its own mounts from the staging points: they are not needed any more.
      await unstage(stages);
      stages = [];
      if (record.networks.length) {
        await this.deps.network.attach(id, pid, record.networks.map((a) => ({ network: a.networkId, aliases: a.aliases })), ports);
        // Without a network the hosts file written at create is already right.
        await this.refreshHosts(record);
      }
      await this.deps.runc.start(id);
      record.state = {
        ...record.state,
        status: "running",
        pid,
        exitCode: 0,
        error: "",
        oomKilled: false,
        startedAt: new Date().toISOString(),
        finishedAt: "0001-01-01T00:00:00Z",
        manuallyStopped: false,
        bootId: this.deps.bootId,
      };
      await this.store.save(record);
      this.emit(record, "start");
    } catch (e) {
      await unstage(stages);
      await this.deps.runc.delete(id, true).catch(() => {});
      await this.deps.network.release(id).catch(() => {});
      await rm(p.exitFile, { force: true });
      const message = e instanceof Error ? e.message : String(e);
      record.state = {
        ...record.state,
        status: record.state.status === "restarting" ? "exited" : record.state.status,
        error: message,
        exitCode: /executable file not found|no such file or directory/.test(message) ? 127 : /permission denied/.test(message) ? 126 : 128,
      };
      await this.store.save(record);
      if (e instanceof EngineError) throw e;
      throw new EngineError("RUNTIME", `failed to create task for container: ${message}`, { cause: e });
    }
  }

  /** conmon → runc create. A runc record left by a crash (the exit settled, the delete not) is cleared and the create retried once. */
  /** docker network connect: joins now if running, and at every start. */
  async connect(key: string, networkId: string, aliases: string[]): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      const network = this.deps.network.find(networkId);
      if (!network) throw new EngineError("NOT_FOUND", `network ${networkId} not found`);
      if (record.host.NetworkMode === "host" || record.host.NetworkMode === "none") {
        throw new EngineError("INVALID", `container cannot be disconnected from host network or connected to host network`);
      }
      if (record.networks.some((a) => a.networkId === networkId)) throw new EngineError("CONFLICT", `endpoint with name ${record.name} already exists in network ${network.name}`);
      if (aliases.length && network.builtin) throw new EngineError("INVALID", "network-scoped aliases are only supported for user-defined networks");
      if (record.state.status === "running" || record.state.status === "paused") {
        await this.deps.network.attach(id, record.state.pid, [{ network: networkId, aliases }], [], { append: true });
      }
      record.networks = [...record.networks, { networkId, aliases }];
      await this.store.save(record);
      await this.refreshHosts(record);
      this.deps.events.emit("network", "connect", networkId, { container: id, name: network.name });
    });
  }

  async disconnect(key: string, networkId: string): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      const network = this.deps.network.find(networkId);
      if (!network) throw new EngineError("NOT_FOUND", `network ${networkId} not found`);
      if (!record.networks.some((a) => a.networkId === networkId)) throw new EngineError("CONFLICT", `container ${record.name} is not connected to network ${network.name}`);
      const peers = this.networkPeers(id);
      await this.deps.network.detach(id, networkId);
      record.networks = record.networks.filter((a) => a.networkId !== networkId);
      await this.store.save(record);
      await this.refreshHosts(record);
      for (const peer of peers) await this.refreshHosts(peer, false).catch(() => {});
      this.deps.events.emit("network", "disconnect", networkId, { container: id, name: network.name });
    });
  }

  /**
   * docker commit: the container's changes (its overlay upper dir, as a layer)
   * on top of its image, with `config` as the new image's config.
   */
  async commit(key: string, input: { config: Record<string, unknown>; comment?: string; author?: string; createdBy?: string; pause?: boolean; made?: MadeHow }): Promise<string> {
    const id = this.get(key).id;
    return this.withLock(id, async () => {
      const record = await this.reconcile(id);
      const pause = input.pause !== false && record.state.status === "running";
      if (pause) await this.deps.runc.pause(id);
      try {
        const parent = this.deps.images.resolve(record.imageId);
        const image = await this.deps.images.createImage({
          parent,
          config: input.config,
          layer: directoryToTar(this.paths(id).upper, { overlay: true, skipIfEmpty: this.mountpoints(record) }),
          history: { created_by: input.createdBy ?? [record.path, ...record.args].join(" "), ...(input.comment ? { comment: input.comment } : {}), ...(input.author ? { author: input.author } : {}) },
          // The container's image is what its content came from, whatever the image is called now.
          made: input.made ?? "commit",
        });
        return image.id;
      } finally {
        if (pause) await this.deps.runc.resume(id).catch(() => {});
      }
    });
  }

  /** Where runc mounts things into this container (relative to its root): not part of what it changed. */
  private mountpoints(record: ContainerRecord): Set<string> {
    const points = ["etc/hosts", "etc/hostname", "etc/resolv.conf", "proc", "sys", "dev", "dev/pts", "dev/shm", "dev/mqueue"];
    for (const m of record.mounts) points.push(m.destination.replace(/^\/+/, ""));
    return new Set(points);
  }

  /** Containers (ids) whose mounts use the volume. */
  volumeUsers(name: string): string[] {
    const users = [...this.containers.values()].filter((c) => c.mounts.some((m) => m.type === "volume" && m.source === name)).map((c) => c.id);
    for (const [id, names] of this.creating) if (names.includes(name)) users.push(id);
    return users;
  }

  /** Running containers sharing a user-defined network with this one (their /etc/hosts name it). */
  private networkPeers(id: string): ContainerRecord[] {
    const mine = new Set(this.deps.network.endpointsOf(id).filter((e) => !this.deps.network.find(e.networkId)?.builtin).map((e) => e.networkId));
    const out: ContainerRecord[] = [];
    for (const c of this.containers.values()) {
      if (c.id === id) continue;
      if (this.deps.network.endpointsOf(c.id).some((e) => mine.has(e.networkId))) out.push(c);
    }
    return out;
  }

  /**
   * Rewrites the container's /etc/hosts (in place: it is bind-mounted) with its
   * address, the containers sharing its user-defined networks (by name, alias
   * and short id), and its --links; then the same for those peers.
   */
  private async refreshHosts(record: ContainerRecord, cascade = true): Promise<void> {
    const eps = this.deps.network.endpointsOf(record.id);
    const peers: { ip: string; names: string[] }[] = [];
    for (const ep of eps) {
      const n = this.deps.network.find(ep.networkId);
      if (!n || n.builtin) continue;
      for (const otherId of this.deps.network.members(n.id)) {
        if (otherId === record.id) continue;
        const other = this.containers.get(otherId);
        const theirs = this.deps.network.endpointsOf(otherId).find((e) => e.networkId === n.id);
        if (other && theirs) peers.push({ ip: theirs.ip, names: [other.name, ...theirs.aliases, other.id.slice(0, 12)] });
      }
    }
    for (const link of record.host.Links) {
      const [target, alias] = link.split(":") as [string, string | undefined];
      const other = this.find(target.replace(/^\//, ""));
      const ip = other ? this.deps.network.endpointsOf(other.id)[0]?.ip : undefined;
      if (other && ip) peers.push({ ip, names: [alias ?? other.name, other.name, other.id.slice(0, 12)] });
    }
    peers.push(...extraHostsOf(record));
    await writeFile(this.paths(record.id).hosts, hostsFile({ hostname: record.config.Hostname, ip: eps[0]?.ip ?? null }, peers));
    if (cascade) for (const peer of this.networkPeers(record.id)) await this.refreshHosts(peer, false).catch(() => {});
  }

  /** Mounts the container's overlay root unless it is mounted (known from memory, or from mountinfo after a restart). */
  private async ensureMounted(record: ContainerRecord): Promise<void> {
    if (this.mounted.has(record.id)) return;
    const p = this.paths(record.id);
    if (!(await isMountPoint(p.rootfs))) {
      await this.deps.snapshots.mount(record.imageChainId, p.rootfs, { upperDir: p.upper, workDir: p.work });
    }
    this.mounted.add(record.id);
  }

  private async createWithConmon(record: ContainerRecord): Promise<number> {
    const id = record.id;
    const p = this.paths(id);
    const launch = () =>
      this.deps.conmon.launch({
        id,
        name: record.name,
        bundle: p.bundle,
        pidFile: p.pidFile,
        conmonPidFile: p.conmonPidFile,
        exitDir: this.exitDir,
        persistDir: p.persist,
        logPath: p.log,
        runtimeLog: p.runtimeLog,
        socketDir: this.socketDir,
        runtimeArgs: this.deps.runc.globalArgs(),
        terminal: record.config.Tty,
        stdin: record.config.OpenStdin,
      });
    try {
      return await launch();
    } catch (e) {
      if (!(e instanceof Error && /already exists/.test(e.message))) throw e;
      await this.deps.runc.delete(id, true);
      return launch();
    }
  }

  private async finishRemove(record: ContainerRecord): Promise<void> {
    const p = this.paths(record.id);
    // Lazily: a host process sitting in the root filesystem must not leave the container half-removed.
    if (this.mounted.has(record.id) || (await isMountPoint(p.rootfs))) await this.deps.snapshots.unmount(p.rootfs, { lazy: true }).catch(() => {});
    this.mounted.delete(record.id);
    if (await isMountPoint(p.rootfs)) throw new EngineError("INTERNAL", `could not unmount the root filesystem of ${record.id}; try again`);
    await this.deps.runc.delete(record.id, true).catch(() => {});
    await rm(p.run, { recursive: true, force: true });
    await rm(path.join(this.socketDir, record.id), { force: true });
    await rm(p.exitFile, { force: true });
    await this.deps.network.release(record.id).catch(() => {});
    await this.store.removeDir(record.id);
    this.containers.delete(record.id);
    this.restartDelay.delete(record.id);
    // rm -v and --rm take the container's anonymous volumes with it (if nothing else uses them).
    if (this.removeVolumes.get(record.id) || record.host.AutoRemove) {
      for (const m of record.mounts) {
        if (m.type !== "volume" || !this.deps.volumes.find(m.source)?.anonymous) continue;
        await this.deps.volumes.remove(m.source, this.volumeUsers(m.source)).catch(() => {});
      }
    }
    this.removeVolumes.delete(record.id);
    this.emit(record, "destroy");
    this.settleWaiters(record, ["not-running", "next-exit", "removed"]);
  }

  private async writeEtcFiles(record: ContainerRecord): Promise<void> {
    const p = this.paths(record.id);
    await writeFile(p.hostname, `${record.config.Hostname}\n`);
    // Until the container starts and has an address (refreshHosts then rewrites it).
    await writeFile(p.hosts, hostsFile({ hostname: record.config.Hostname, ip: null }, extraHostsOf(record)));
    if (record.host.Dns.length || record.host.DnsSearch.length || record.host.DnsOptions.length) {
      const lines = [...record.host.Dns.map((d) => `nameserver ${d}`)];
      if (record.host.DnsSearch.length) lines.push(`search ${record.host.DnsSearch.join(" ")}`);
      if (record.host.DnsOptions.length) lines.push(`options ${record.host.DnsOptions.join(" ")}`);
      await writeFile(p.resolvConf, lines.join("\n") + "\n");
    } else {
      // The host's resolvers, minus loopback ones a private network namespace can't reach.
      const host = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
      const kept = host.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
      await writeFile(p.resolvConf, kept.join("\n"));
    }
  }

  private specInput(
    id: string,
    host: HostSettings,
    proc: { args: string[]; env: string[]; cwd: string; uid: number; gid: number; additionalGids: number[]; terminal: boolean },
    hostname: string,
    mounts: OciMount[] = [],
  ) {
    const [h, w] = host.ConsoleSize;
    return {
      id,
      rootfs: this.paths(id).rootfs,
      readonlyRootfs: host.ReadonlyRootfs,
      hostname,
      process: { ...proc, consoleSize: h && w ? { height: h, width: w } : undefined },
      privileged: host.Privileged,
      capAdd: host.CapAdd,
      capDrop: host.CapDrop,
      noNewPrivileges: host.SecurityOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
      seccomp: host.SecurityOpt.some((o) => /^seccomp[=:]unconfined$/.test(o)) ? ("unconfined" as const) : ("default" as const),
      resources: {
        memory: host.Memory || undefined,
        memorySwap: host.MemorySwap || undefined,
        nanoCpus: host.NanoCpus || undefined,
        cpuShares: host.CpuShares || undefined,
        cpuPeriod: host.CpuPeriod || undefined,
        cpuQuota: host.CpuQuota || undefined,
        cpusetCpus: host.CpusetCpus || undefined,
        cpusetMems: host.CpusetMems || undefined,
        pidsLimit: host.PidsLimit > 0 ? host.PidsLimit : undefined,
      },
      shmSize: host.ShmSize || 64 * 1024 * 1024,
      ulimits: host.Ulimits.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      hostLimits: this.deps.hostLimits,
      mounts,
      hostNetwork: host.NetworkMode === "host",
      cgroupsPath: this.cgroupsPath(id),
      cgroupVersion: this.deps.cgroupVersion,
    };
  }
}

function raceTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
