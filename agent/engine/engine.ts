import { type Confinement, isConfining } from "../../lib/confinement";
import type { CreateRequest } from "../../lib/docker/create-request";
import { inheritMounts, type MountSpec, parseVolumesFrom } from "../../lib/docker/mounts";
import { validateContainerName } from "../../lib/docker/create-request";
import type { MadeHow } from "../../lib/image-provenance";
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { directoryToTar } from "../build/layer-tar";
import type { HostLimits } from "../runtime/rlimits";
import { checkConfinement } from "./confinement";
import type { DnsAnswer, DnsQuestion } from "../network/dns-server";
import { ContainerDns } from "./container-dns";
import { HostsFiles } from "./container-hosts";
import { prepareMounts } from "./container-mounts";
import { attachmentFor, attachmentsFor, endpointRequests } from "./container-network";
import { ContainerPaths } from "./container-paths";
import { type ContainerRecord, ContainerStore, type HostSettings } from "./container-store";
import type { EngineImages, EngineMonitor, EngineNetwork, EngineRuntime, EngineSnapshots, EngineVolumes } from "./deps";
import { EngineError } from "./errors";
import type { EventBus } from "./events";
import { clearExit, ExitWatcher, exitRecorded, readExit, restartAfterReboot, RestartTimers, restartWanted, type WaitCondition, type WaitResult, Waiters } from "./exits";
import { applyProbeResult, type HealthState, healthSettings, monitorStopped, type ProbeResult, startingHealth } from "./health";
import { type HealthMonitor, HealthMonitors } from "./health-monitor";
import type { ProbeRunner } from "./health-probe";
import { applyUpdate, type ContainerUpdate, hostSettingsFrom, resourcesOf, UpdateConflict } from "./host-settings";
import { blkioWeightSupported, buildResources } from "../runtime/resources";
import { SpecError } from "../runtime/spec-error";
import { Launcher } from "./launch";
import { networkEvents, volumeEvents } from "./lifecycle-events";
import { mergeContainerConfig } from "./merge-config";
import { isMountPoint } from "./mounts";
import { newRecord } from "./new-record";
import { generateName } from "./names";
import { signalNumber } from "./signals";
import { canKill, canPause, canRemove, canStart, canUnpause, isActive, type Status } from "./status";

/** How long a container leaving a network still answers, unnamed, before its interface goes (see disconnect). */
const DISCONNECT_DRAIN_MS = 500;

// The container engine. It owns every container's state; the runtime
// adapters (runc, conmon) are stateless. Each operation: lock → reconcile
// with runc and the exit file → guard → act → save atomically → event.
// Launching is launch.ts; hearing of exits and restarting is exits.ts; what
// flows in and out of a running container is container-io.ts.

export interface EngineDeps {
  root: string;
  /** Runtime state on tmpfs (runc's root, exit files, pid files): cleared by a reboot. */
  execRoot: string;
  images: EngineImages;
  snapshots: EngineSnapshots;
  runc: EngineRuntime;
  conmon: EngineMonitor;
  events: EventBus;
  hostLimits: HostLimits;
  cgroupVersion: 1 | 2;
  bootId: string;
  /** cgroupfs parent for containers (e.g. "berth"); per agent so tests don't collide. */
  cgroupParent: string;
  network: EngineNetwork;
  volumes: EngineVolumes;
  /** Runs health checks' probes in containers (health-probe.ts). */
  probes: ProbeRunner;
}

export type { WaitCondition } from "./exits";

export class ContainerEngine {
  private readonly store: ContainerStore;
  private readonly locations: ContainerPaths;
  private readonly launcher: Launcher;
  private readonly hosts: HostsFiles;
  private readonly dns: ContainerDns;
  private readonly exits: ExitWatcher;
  private readonly waiters = new Waiters();
  private readonly restarts = new RestartTimers();
  private readonly health: HealthMonitors;
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Containers being created, and the volumes they are about to use. */
  private readonly creating = new Map<string, string[]>();
  /** remove() asked for the container's anonymous volumes to go too. */
  private readonly removeVolumes = new Map<string, boolean>();
  private closed = false;
  /** Endpoints (container/network) being disconnected: no longer named to their peers, not yet gone. */
  private readonly leaving = new Set<string>();

  constructor(private readonly deps: EngineDeps) {
    this.store = new ContainerStore(deps.root);
    this.locations = new ContainerPaths(this.store.dir, deps.execRoot);
    this.launcher = new Launcher({ ...deps, paths: this.locations, cgroupsPath: (id) => this.cgroupsPath(id) });
    const lookup = { byId: (id: string) => this.containers.get(id), find: (key: string) => this.find(key), all: () => this.containers.values() };
    const named = (containerId: string, networkId: string) => !this.leaving.has(`${containerId}/${networkId}`);
    this.hosts = new HostsFiles(deps.network, this.locations, lookup, named);
    this.dns = new ContainerDns(deps.network, lookup, named);
    this.exits = new ExitWatcher(this.locations.exitDir);
    this.health = new HealthMonitors(deps.probes, {
      target: (id) => {
        const container = this.containers.get(id);
        return container && { container, rootfs: this.paths(id).rootfs };
      },
      record: (id, result, monitor) => this.recordProbe(id, result, monitor),
      fault: (id, e) => process.stderr.write(`berth-agent: health check of ${id}: ${e instanceof Error ? e.message : String(e)}\n`),
    });
  }

  /** What the embedded DNS answers a container on one of our networks (network/dns-server.ts asks). */
  dnsLookup(question: DnsQuestion): DnsAnswer {
    return this.dns.lookup(question);
  }

  // ---- start-up and shutdown ----

  /** Loads every container, re-adopts the running ones, settles those that died while we were away. */
  async init(): Promise<void> {
    await this.store.init();
    await mkdir(this.exits.dir, { recursive: true, mode: 0o700 });
    await mkdir(this.deps.runc.root, { recursive: true, mode: 0o700 });
    const { records, orphans } = await this.store.loadAll();
    for (const id of orphans) await this.store.removeDir(id);
    for (const record of records) {
      this.containers.set(record.id, record);
      // A remove that crashed midway finishes now.
      if (record.state.status === "removing") await this.finishRemove(record).catch(() => {});
    }
    // Addresses and ports of containers that stopped while we were away are released here.
    await this.deps.network.init((id) => {
      const r = this.containers.get(id);
      return Boolean(r && isActive(r.state.status) && r.state.bootId === this.deps.bootId);
    });
    this.deps.images.setImageInUse((imageId) => [...this.containers.values()].filter((c) => c.imageId === imageId).map((c) => c.id));
    this.exits.watch((id) => this.containers.has(id), (id) => void this.onExit(id));
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
      if (restartAfterReboot(record)) await this.start(record.id).catch(() => {});
    }
    // Re-adopted containers are probed again, their health as they left it (dockerd's restore).
    for (const record of this.containers.values()) if (record.state.status === "running") this.health.arm(record);
    this.exits.poll(() => this.awaitingExit(), (id) => void this.onExit(id));
  }

  /** Stops watching. Containers keep running: conmon holds them. */
  close(): void {
    this.closed = true;
    this.health.closeAll();
    this.exits.close();
    this.restarts.close();
    this.waiters.rejectAll(new EngineError("INTERNAL", "the agent is shutting down"));
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

  /** Where the container's files are (container-paths.ts). */
  paths(id: string) {
    return this.locations.of(id);
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

  /** Containers (ids) whose mounts use the volume. */
  volumeUsers(name: string): string[] {
    const users = [...this.containers.values()].filter((c) => c.mounts.some((m) => m.type === "volume" && m.source === name)).map((c) => c.id);
    for (const [id, names] of this.creating) if (names.includes(name)) users.push(id);
    return users;
  }

  // ---- lifecycle ----

  async create(request: CreateRequest, options: { name?: string; confinement?: Confinement } = {}): Promise<{ id: string; warnings: string[] }> {
    const imageKey = request.Image;
    if (!imageKey) throw new EngineError("INVALID", "config: image is required (Config.Image is empty)");
    let name: string;
    if (options.name) {
      validateContainerName(options.name);
      name = options.name.replace(/^\//, "");
    } else {
      name = generateName((n) => this.nameHolder(n) !== undefined);
    }
    const image = this.deps.images.resolve(imageKey);
    const imageChainId = image.layers.at(-1)?.chainId;
    if (!imageChainId) throw new EngineError("INVALID", `image ${imageKey} has no layers`);
    const details = await this.deps.images.inspect(image.id);
    const host: HostSettings = hostSettingsFrom(request.HostConfig ?? {});
    const confinement = isConfining(options.confinement) ? options.confinement : undefined;
    const inherited = this.volumesFrom(host.VolumesFrom ?? []);
    if (confinement) checkConfinement(confinement, imageKey, image, host, inherited);
    const id = randomBytes(32).toString("hex");
    const merged = mergeContainerConfig(details.config.config, request);
    const networks = attachmentsFor(request, this.deps.network);
    for (const link of host.Links) {
      const target = link.split(":")[0]!.replace(/^\//, "");
      if (!this.find(target)) throw new EngineError("INVALID", `could not get container for ${target}`);
    }
    const hostname = request.Hostname || id.slice(0, 12);
    // Checked before anything is written, so a refused request leaves nothing behind.
    this.launcher.checkSpec(id, host, [merged.path, ...merged.args], hostname, Boolean(request.Tty));

    return this.withLock(`name:${name}`, async () => {
      const holder = this.nameHolder(name);
      if (holder) throw nameConflict(name, holder);
      // Claimed before they exist, so a concurrent volume rm/prune can't take them between create and save.
      const claimed = [...host.Binds.map((b) => b.split(":")[0]!), ...host.Mounts.map((m) => m.Source ?? ""), ...inherited.filter((m) => m.type === "volume").map((m) => m.source)];
      this.creating.set(id, claimed.filter((n) => n && !n.startsWith("/")));
      let prepared: Awaited<ReturnType<typeof prepareMounts>>;
      try {
        prepared = await prepareMounts(host, Object.keys(merged.Volumes), this.deps.volumes, inherited);
      } catch (e) {
        this.creating.delete(id);
        throw e;
      }
      const { mounts, created: createdVolumes } = prepared;
      this.creating.set(id, mounts.filter((m) => m.type === "volume").map((m) => m.source));
      const record = newRecord({ id, name, hostname, request, imageKey, imageId: image.id, imageChainId, merged, host, networks, mounts, confinement, bootId: this.deps.bootId });
      const p = this.paths(id);
      try {
        await mkdir(p.dir, { mode: 0o700 });
        await Promise.all([mkdir(p.bundle), mkdir(p.rootfs), mkdir(p.upper), mkdir(p.work), mkdir(p.persist)]);
        await this.launcher.writeEtcFiles(record);
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
      void this.withLock(id, () => this.launcher.ensureMounted(record)).catch(() => {});
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
      this.restarts.cancel(id);
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
      const signal = signalNumber(options.signal || current.config.StopSignal || "SIGTERM");
      if (!(await this.stopByHand(current, signal))) return false;
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
    // A paused container isn't probed (dockerd's updateHealthMonitor).
    await this.transition(key, { allowed: canPause, refused: (id) => `Container ${id} is not running`, act: (id) => this.deps.runc.pause(id), to: "paused", event: "pause", health: "disarm" });
  }

  async unpause(key: string): Promise<void> {
    await this.transition(key, { allowed: canUnpause, refused: (id) => `Container ${id} is not paused`, act: (id) => this.deps.runc.resume(id), to: "running", event: "unpause", health: "arm" });
  }

  async rename(key: string, newName: string): Promise<void> {
    validateContainerName(newName);
    const name = newName.replace(/^\//, "");
    const id = this.get(key).id;
    await this.withLock(`name:${name}`, () =>
      this.withLock(id, async () => {
        const holder = this.nameHolder(name);
        if (holder && holder.id !== id) throw nameConflict(name, holder);
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
      return this.stopByHand(record, "KILL", { all: true });
    });
    if (wasActive) await raceTimeout(this.waitFor(id, "not-running"), 30_000);
    await this.withLock(id, async () => {
      const record = this.containers.get(id);
      if (!record) return;
      if (isActive(record.state.status)) await this.deps.runc.delete(id, true);
      record.state = { ...record.state, status: "removing" };
      await this.store.save(record);
      await this.finishRemove(record).catch((e: unknown) => {
        // Whoever waits for the removal hears that it failed (dockerd's SetRemovalError).
        this.waiters.settle(id, record.state.exitCode, ["removed"], e);
        throw e;
      });
    });
  }

  /**
   * docker update: the new limits and restart policy are saved, and applied
   * to the cgroup of a running (or paused) container at once (runc update);
   * a stopped one gets them at its next start. What dockerd refuses is
   * refused, and a runtime that can't apply them leaves the old settings.
   * Warnings: what was asked for and discarded, as dockerd warns.
   */
  async update(key: string, change: ContainerUpdate): Promise<{ warnings: string[] }> {
    const id = this.get(key).id;
    return this.withLock(id, async () => {
      const record = await this.reconcile(id);
      const refused = (why: string, code: "CONFLICT" | "INVALID" | "INTERNAL" = "CONFLICT") => new EngineError(code, `Cannot update container ${id}: ${why}`);
      if (record.state.status === "removing" || record.state.status === "dead") throw refused('container is marked for removal and cannot be "update"');
      const warnings: string[] = [];
      let wanted = change;
      if (change.BlkioWeight && !blkioWeightSupported(this.deps.cgroupVersion)) {
        warnings.push("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.");
        wanted = { ...change, BlkioWeight: 0 };
      }
      let host: HostSettings;
      let resources: ReturnType<typeof buildResources>;
      try {
        host = applyUpdate(record.host, wanted);
        // The settings as a whole, as the next start would build them (a reservation above the new limit, say).
        resources = buildResources(resourcesOf(host));
      } catch (e) {
        if (e instanceof UpdateConflict || e instanceof SpecError) throw refused(e.message, e instanceof SpecError ? "INVALID" : "CONFLICT");
        throw e;
      }
      const before = record.host;
      record.host = host;
      await this.store.save(record);
      if (record.state.status === "running" || record.state.status === "paused") {
        // A limit lifted (pids ≤ 0) is written as "max"; runc leaves what the document doesn't name.
        const live = { ...resources, ...(wanted.PidsLimit !== undefined && wanted.PidsLimit <= 0 ? { pids: { limit: -1 } } : {}) };
        try {
          await this.deps.runc.update(id, JSON.stringify(live));
        } catch (e) {
          record.host = before;
          await this.store.save(record);
          throw refused(e instanceof Error ? e.message : String(e), "INTERNAL");
        }
      }
      this.emit(record, "update");
      return { warnings };
    });
  }

  /**
   * Resolves when the condition holds: Docker's POST /containers/{id}/wait.
   * not-running: now if it isn't running, else at its exit; next-exit: at its
   * next exit, whatever it is doing now; removed: when it is gone. `signal`:
   * the client went away, stop waiting.
   */
  async wait(key: string, condition: WaitCondition = "not-running", signal?: AbortSignal): Promise<WaitResult> {
    const id = this.get(key).id;
    return this.waitFor(id, condition, signal);
  }

  /**
   * docker network connect, as dockerd does it: a container that isn't
   * running only records the network (joined at its next start; asking again
   * changes nothing), a running one joins now; asking twice then is refused.
   */
  async connect(key: string, networkKey: string, endpoint: { aliases: string[]; ipv4Address?: string }): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      const network = this.deps.network.find(networkKey);
      if (!network) throw new EngineError("NOT_FOUND", `network ${networkKey} not found`);
      refuseNetworkChange(record);
      if (record.host.NetworkMode === "host") throw new EngineError("INVALID", "container sharing network namespace with another container or host cannot be connected to any other network");
      if (record.host.NetworkMode === "none") throw new EngineError("INVALID", "container cannot be connected to multiple networks with one of the networks in private (none) mode");
      const attachment = attachmentFor(network.id, { Aliases: endpoint.aliases, ...(endpoint.ipv4Address ? { IPAMConfig: { IPv4Address: endpoint.ipv4Address } } : {}) });
      this.deps.network.checkEndpoint(network, attachment);
      if (record.state.status !== "running" && record.state.status !== "paused") {
        // dockerd keeps the first settings and answers success ("avoid duplicate config").
        if (record.networks.some((a) => a.networkId === network.id)) return;
        record.networks = [...record.networks, attachment];
        await this.store.save(record);
        return;
      }
      if (this.deps.network.endpointsOf(id).some((e) => e.networkId === network.id)) {
        throw new EngineError("FORBIDDEN", `endpoint with name ${record.name} already exists in network ${network.name}`);
      }
      await this.deps.network.attach(id, record.state.pid, endpointRequests({ ...record, networks: [attachment] }), [], { append: true });
      record.networks = [...record.networks.filter((a) => a.networkId !== network.id), attachment];
      await this.store.save(record);
      await this.hosts.refresh(record);
      this.deps.events.emit("network", "connect", network.id, { container: id, name: network.name, type: network.driver });
    });
  }

  /** docker network disconnect: a running container leaves now; one that isn't only forgets the network. */
  async disconnect(key: string, networkKey: string): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      const network = this.deps.network.find(networkKey);
      if (!network) throw new EngineError("NOT_FOUND", `network ${networkKey} not found`);
      refuseNetworkChange(record);
      const recorded = record.networks.some((a) => a.networkId === network.id);
      const running = record.state.status === "running" || record.state.status === "paused";
      const joined = running && this.deps.network.endpointsOf(id).some((e) => e.networkId === network.id);
      if (!recorded && !joined) {
        throw new EngineError("CONFLICT", running ? `container ${id} is not connected to network ${network.name}` : `container ${id} is not connected to the network ${network.name}`);
      }
      const peers = joined ? this.hosts.peersOf(id) : [];
      if (joined && peers.length) {
        // As Docker removes an endpoint's service records before its interface: the peers stop resolving it
        // first (their /etc/hosts, the embedded DNS), connections already made to it get a moment to finish,
        // then it leaves. A rolling update taking the old container off its network drops no request.
        const key = `${id}/${network.id}`;
        this.leaving.add(key);
        try {
          await this.hosts.refreshAll(peers);
          await new Promise((r) => setTimeout(r, DISCONNECT_DRAIN_MS));
          await this.deps.network.detach(id, network.id, record.state.pid);
        } finally {
          this.leaving.delete(key);
        }
      } else if (joined) await this.deps.network.detach(id, network.id, record.state.pid);
      record.networks = record.networks.filter((a) => a.networkId !== network.id);
      await this.store.save(record);
      if (!joined) return;
      await this.hosts.refresh(record);
      await this.hosts.refreshAll(peers);
      this.deps.events.emit("network", "disconnect", network.id, { container: id, name: network.name, type: network.driver });
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
          layer: directoryToTar(this.paths(id).upper, { overlay: true, skipIfEmpty: mountpoints(record) }),
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

  /**
   * Runs `task` on the container's files (docker cp, export) under its lock,
   * so no start, stop or remove happens meanwhile; the root filesystem is
   * mounted for it if it wasn't (a container stopped before a reboot) and
   * taken down again after, unless the container runs by then.
   */
  async withRootfs<T>(key: string, task: (record: ContainerRecord) => Promise<T>): Promise<T> {
    const id = this.get(key).id;
    return this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (record.state.status === "removing") throw new EngineError("CONFLICT", `container ${id} is being removed`);
      const wasMounted = await isMountPoint(this.paths(id).rootfs);
      await this.launcher.ensureMounted(record);
      try {
        return await task(record);
      } finally {
        if (!wasMounted && !isActive(record.state.status)) await this.launcher.unmountRoot(id);
      }
    });
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

  // ---- internals ----

  /** --volumes-from: the mounts each source container lends, in order (the source must exist). */
  private volumesFrom(specs: string[]): MountSpec[] {
    return specs.flatMap((spec) => {
      const { container, readOnly } = parseVolumesFrom(spec);
      const source = this.get(container);
      return inheritMounts({ id: source.id, mounts: source.mounts, bindPrefixes: source.confinement?.bindPrefixes }, readOnly);
    });
  }

  private nameHolder(name: string): ContainerRecord | undefined {
    for (const c of this.containers.values()) if (c.name === name) return c;
    return undefined;
  }

  private emit(record: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const attributes: Record<string, string> = { name: record.name, image: record.config.Image, ...record.config.Labels, ...extra };
    this.deps.events.emit("container", action, record.id, attributes);
  }

  /** A pause-like operation: under the lock, guard, act through runc, then the new status and its event. */
  private async transition(key: string, t: { allowed: (s: Status) => boolean; refused: (id: string) => string; act: (id: string) => Promise<unknown>; to: Status; event: string; health: "arm" | "disarm" }): Promise<void> {
    const id = this.get(key).id;
    await this.withLock(id, async () => {
      const record = await this.reconcile(id);
      if (!t.allowed(record.state.status)) throw new EngineError("CONFLICT", t.refused(record.id));
      await t.act(id);
      record.state = { ...record.state, status: t.to };
      if (t.health === "disarm") this.stopProbes(record);
      await this.store.save(record);
      this.emit(record, t.event);
      if (t.health === "arm") this.health.arm(record);
    });
  }

  /** The container stops being probed (it exited or paused): dockerd then calls it unhealthy until a probe or a start says otherwise. */
  private stopProbes(record: ContainerRecord): void {
    if (this.health.disarm(record.id) && record.state.health) record.state = { ...record.state, health: monitorStopped(record.state.health) };
  }

  /** A probe's result, from the container's current monitor, into its health (and a health_status event when that changes). */
  private recordProbe(id: string, result: ProbeResult, monitor: HealthMonitor): Promise<HealthState | undefined> {
    return this.withLock(id, async () => {
      const record = this.containers.get(id);
      if (!record || record.state.status !== "running" || !this.health.isCurrent(id, monitor)) return undefined;
      const settings = healthSettings(record.config.Healthcheck);
      if (!settings) return undefined;
      const before = record.state.health ?? startingHealth();
      const after = applyProbeResult(before, result, settings, Date.parse(record.state.startedAt));
      record.state = { ...record.state, health: after };
      await this.store.save(record);
      if (after.Status !== before.Status) this.emit(record, `health_status: ${after.Status}`);
      return after;
    });
  }

  /**
   * The first half of docker stop and rm -f (under the lock): no restart any
   * more, the container marked as stopped by hand (so no restart policy
   * brings it back), and `signal` sent, a paused container resumed first so
   * it can act on it. Whether there was a process to signal.
   */
  private async stopByHand(record: ContainerRecord, signal: number | "KILL", options: { all?: boolean } = {}): Promise<boolean> {
    this.restarts.cancel(record.id);
    if (record.state.status === "restarting") {
      // Waiting out a restart delay: there is no process to signal.
      record.state = { ...record.state, status: "exited", manuallyStopped: true };
      await this.store.save(record);
      return false;
    }
    if (!canKill(record.state.status)) return false;
    record.state = { ...record.state, manuallyStopped: true };
    await this.store.save(record);
    if (record.state.status === "paused") await this.deps.runc.resume(record.id).catch(() => {});
    await this.deps.runc.kill(record.id, signal, options.all).catch(() => {});
    return true;
  }

  private waitFor(id: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const record = this.containers.get(id);
    if (!record) {
      if (condition === "removed") return Promise.resolve({ StatusCode: 0, Error: null });
      return Promise.reject(new EngineError("NOT_FOUND", `No such container: ${id}`));
    }
    if (condition === "not-running" && !isActive(record.state.status)) {
      return Promise.resolve({ StatusCode: record.state.exitCode, Error: null });
    }
    return this.waiters.add(id, condition, signal);
  }

  /** Has the process ended, as far as runc and conmon know? (The exit file can come before runc notices.) */
  private async processGone(id: string): Promise<{ gone: boolean; status?: Status }> {
    if (exitRecorded(this.paths(id))) return { gone: true };
    const state = await this.deps.runc.state(id);
    if (state && (state.status === "running" || state.status === "paused")) return { gone: false, status: state.status === "paused" ? "paused" : "running" };
    return { gone: true };
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
    const now = await this.processGone(id);
    if (now.gone) await this.settleExit(record);
    else if (now.status && record.state.status !== now.status) {
      record.state = { ...record.state, status: now.status };
      await this.store.save(record);
    }
    return record;
  }

  /** Running containers, not waiting out a restart: the ones an exit file can be for. */
  private *awaitingExit(): Iterable<string> {
    for (const record of this.containers.values()) if (isActive(record.state.status) && record.state.status !== "restarting") yield record.id;
  }

  /**
   * The exit watcher's entry point: settle the exit and, under the same lock,
   * the restart policy's verdict (restarting, the restart scheduled after
   * Docker's backoff); or, for --rm, remove the container.
   */
  private async onExit(id: string): Promise<void> {
    if (this.closed || !this.containers.has(id)) return;
    let autoRemove = false;
    await this.withLock(id, async () => {
      const record = this.containers.get(id);
      if (!record || !isActive(record.state.status) || record.state.status === "restarting") return;
      if (!(await this.processGone(id)).gone) return;
      await this.settleExit(record);
      if (record.host.AutoRemove) autoRemove = true;
      else await this.applyRestartPolicy(record);
    }).catch(() => {});
    // remove() takes the lock itself.
    if (autoRemove) await this.remove(id, { force: true }).catch(() => {});
  }

  /** Records the exit (code, OOM), releases runc's copy, wakes waiters. Under the lock. */
  private async settleExit(record: ContainerRecord): Promise<void> {
    const p = this.paths(record.id);
    const { exitCode, oomKilled } = await readExit(p);
    const state: ContainerRecord["state"] = { ...record.state, status: "exited", pid: 0, exitCode, oomKilled, finishedAt: new Date().toISOString() };
    // Saved first, then shown and announced in one step: whoever sees "exited" (inspect, ps) finds the die event
    // already in the log, as with dockerd (a client reading events --until now after it saw the exit got no die).
    await this.store.save({ ...record, state });
    record.state = state;
    this.stopProbes(record);
    if (oomKilled) this.emit(record, "oom");
    this.emit(record, "die", { exitCode: String(exitCode) });
    this.waiters.settle(record.id, exitCode, ["not-running", "next-exit"]);
    // Clean-up after the news: whoever waits for the exit doesn't wait for it.
    // runc's record (and cgroup) goes; still under the lock, so a restart can't race it.
    await this.deps.runc.delete(record.id, true).catch(() => {});
    const peers = this.hosts.peersOf(record.id);
    await this.deps.network.release(record.id).catch(() => {});
    networkEvents(this.deps.events, this.deps.network, record, "disconnect");
    volumeEvents(this.deps.events, record, "unmount");
    await this.hosts.refreshAll(peers);
    await clearExit(p);
  }

  /** After an exit the watcher settled: restarting, and the restart scheduled, if the policy wants it. Under the lock. */
  private async applyRestartPolicy(record: ContainerRecord): Promise<void> {
    if (!restartWanted(record) || this.closed) return;
    const delay = this.restarts.nextDelay(record.id, Date.now() - Date.parse(record.state.startedAt));
    record.state = { ...record.state, status: "restarting" };
    await this.store.save(record);
    this.restarts.schedule(record.id, delay, () => {
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
    });
  }

  /** Launches the container (launch.ts) and records the outcome. Under the lock. */
  private async launch(record: ContainerRecord): Promise<void> {
    await this.launcher.prepare(record);
    // A restart by the restart policy may find the last run's monitor still there (dockerd's initHealthMonitor).
    this.health.disarm(record.id);
    try {
      const pid = await this.launcher.launch(record, () => this.hosts.refresh(record));
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
        // Every start begins the health check afresh: starting, no failures.
        ...(healthSettings(record.config.Healthcheck) ? { health: startingHealth(record.state.health) } : {}),
      };
      await this.store.save(record);
      networkEvents(this.deps.events, this.deps.network, record, "connect");
      volumeEvents(this.deps.events, record, "mount");
      this.emit(record, "start");
      this.health.arm(record);
    } catch (e) {
      await this.launcher.abort(record.id);
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

  private async finishRemove(record: ContainerRecord): Promise<void> {
    const p = this.paths(record.id);
    if (!(await this.launcher.unmountRoot(record.id))) throw new EngineError("INTERNAL", `could not unmount the root filesystem of ${record.id}; try again`);
    await this.deps.runc.delete(record.id, true).catch(() => {});
    await rm(p.run, { recursive: true, force: true });
    await rm(path.join(this.locations.socketDir, record.id), { force: true });
    await rm(p.exitFile, { force: true });
    await this.deps.network.release(record.id).catch(() => {});
    await this.store.removeDir(record.id);
    this.containers.delete(record.id);
    this.restarts.forget(record.id);
    this.health.disarm(record.id);
    // rm -v and --rm take the container's anonymous volumes with it (if nothing else uses them).
    if (this.removeVolumes.get(record.id) || record.host.AutoRemove) {
      for (const m of record.mounts) {
        // A volume --volumes-from brought is its source's, not this container's to remove.
        if (m.type !== "volume" || m.from || !this.deps.volumes.find(m.source)?.anonymous) continue;
        await this.deps.volumes.remove(m.source, this.volumeUsers(m.source)).catch(() => {});
      }
    }
    this.removeVolumes.delete(record.id);
    this.emit(record, "destroy");
    this.waiters.settle(record.id, record.state.exitCode, ["not-running", "next-exit", "removed"]);
  }
}

/** dockerd's errRemovalContainer: a container on its way out can't change networks. */
function refuseNetworkChange(record: ContainerRecord): void {
  if (record.state.status === "removing" || record.state.status === "dead") {
    throw new EngineError("CONFLICT", `Container ${record.id} is marked for removal and cannot be connected or disconnected to the network`);
  }
}

function nameConflict(name: string, holder: ContainerRecord): EngineError {
  return new EngineError("CONFLICT", `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
}

/** Where runc mounts things into this container (relative to its root): not part of what it changed. */
function mountpoints(record: ContainerRecord): Set<string> {
  const points = ["etc/hosts", "etc/hostname", "etc/resolv.conf", "proc", "sys", "dev", "dev/pts", "dev/shm", "dev/mqueue"];
  for (const m of record.mounts) points.push(m.destination.replace(/^\/+/, ""));
  return new Set(points);
}

/** Whether `p` settles within `ms` (either way). */
function raceTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    p.then(settled, settled);
  });
}
