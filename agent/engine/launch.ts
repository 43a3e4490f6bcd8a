import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildRuntimeSpec, specToJson } from "../runtime/spec";
import type { OciMount, ProcessInput } from "../runtime/spec-types";
import type { HostLimits } from "../runtime/rlimits";
import { type BindStage, unstage } from "./confined-bind";
import { endpointRequests, extraHostsOf, hostsFile, portBindingsOf } from "./container-network";
import { ociMounts } from "./container-mounts";
import type { ContainerPaths } from "./container-paths";
import type { ContainerRecord, HostSettings } from "./container-store";
import type { EngineMonitor, EngineNetwork, EngineRuntime, EngineSnapshots, EngineVolumes } from "./deps";
import { resourcesOf } from "./host-settings";
import { processEnv } from "./merge-config";
import { isMountPoint } from "./mounts";
import { resolveUser } from "./resolve-user";
import { resolvConf } from "./container-dns";

// Launching a container: its overlay root mounted, its /etc files, the OCI
// bundle (the runtime spec from its settings), conmon creating it, its
// networks joined, runc starting it. The engine calls this under the
// container's lock and owns the state; nothing here records any.

export interface LaunchDeps {
  paths: ContainerPaths;
  runc: EngineRuntime;
  conmon: EngineMonitor;
  network: EngineNetwork;
  volumes: EngineVolumes;
  snapshots: EngineSnapshots;
  hostLimits: HostLimits;
  cgroupVersion: 1 | 2;
  cgroupsPath: (id: string) => string;
}

export class Launcher {
  /** Containers whose root filesystem this agent has seen mounted (saves reading mountinfo on every start). */
  private readonly mounted = new Set<string>();

  constructor(private readonly deps: LaunchDeps) {}

  /**
   * Checks the settings make a valid spec (SpecError if not), before anything
   * is written: a refused create leaves nothing behind.
   */
  checkSpec(id: string, host: HostSettings, command: string[], hostname: string, terminal: boolean): void {
    buildRuntimeSpec(this.specInput(id, host, { args: command, env: [], cwd: "/", uid: 0, gid: 0, additionalGids: [], terminal }, hostname));
  }

  /** Mounts the container's overlay root unless it is mounted (known from memory, or from mountinfo after a restart). */
  async ensureMounted(record: ContainerRecord): Promise<void> {
    if (this.mounted.has(record.id)) return;
    const p = this.deps.paths.of(record.id);
    if (!(await isMountPoint(p.rootfs))) {
      await this.deps.snapshots.mount(record.imageChainId, p.rootfs, { upperDir: p.upper, workDir: p.work });
    }
    this.mounted.add(record.id);
  }

  /** Takes the root filesystem down; false if it is still mounted (a lazy unmount failed). */
  async unmountRoot(id: string): Promise<boolean> {
    const rootfs = this.deps.paths.of(id).rootfs;
    // Lazily: a host process sitting in the root filesystem must not leave the container half-removed.
    if (this.mounted.has(id) || (await isMountPoint(rootfs))) await this.deps.snapshots.unmount(rootfs, { lazy: true }).catch(() => {});
    this.mounted.delete(id);
    return !(await isMountPoint(rootfs));
  }

  /** /etc/hostname, /etc/hosts (until the container has an address) and /etc/resolv.conf, written at create. */
  async writeEtcFiles(record: ContainerRecord): Promise<void> {
    const p = this.deps.paths.of(record.id);
    await writeFile(p.hostname, `${record.config.Hostname}\n`);
    await writeFile(p.hosts, hostsFile({ hostname: record.config.Hostname, ip: null }, extraHostsOf(record)));
    const host = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
    await writeFile(p.resolvConf, resolvConf(record, host, this.embeddedDnsOf(record)));
  }

  /** The gateway of the container's first user-defined network that answers DNS, if any. */
  private embeddedDnsOf(record: ContainerRecord): string | null {
    for (const a of record.networks) {
      const n = this.deps.network.find(a.networkId);
      if (n && !n.builtin && this.deps.network.answersDns(n.id)) return n.gateway;
    }
    return null;
  }

  /** Before a launch: runtime directories cleared of an earlier run, and the root filesystem mounted. */
  async prepare(record: ContainerRecord): Promise<void> {
    const id = record.id;
    const p = this.deps.paths.of(id);
    await mkdir(p.run, { recursive: true, mode: 0o700 });
    await mkdir(this.deps.paths.socketDir, { recursive: true, mode: 0o700 });
    await rm(path.join(this.deps.paths.socketDir, id), { force: true });
    await rm(p.exitFile, { force: true });
    await rm(p.runtimeLog, { force: true });
    // runc's copy of an earlier run is deleted when that run's exit is settled (and again by abort()).
    await this.ensureMounted(record);
  }

  /**
   * After prepare(): writes the bundle, has conmon create the container, joins
   * its networks (then `joined` rewrites /etc/hosts), and has runc start it.
   * Resolves with its pid. On failure, call abort().
   */
  async launch(record: ContainerRecord, joined: () => Promise<void>): Promise<number> {
    const id = record.id;
    const p = this.deps.paths.of(id);
    let stages: BindStage[] = [];
    try {
      const { uid, gid, additionalGids } = await resolveUser(p.rootfs, record.config.User);
      const confine = { prefixes: record.confinement?.bindPrefixes, stageDir: path.join(p.run, "binds") };
      const { mounts: extraMounts, stages: bindStages } = await ociMounts(record.mounts, p.rootfs, this.deps.volumes, confine);
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
        await this.deps.network.attach(id, pid, endpointRequests(record), ports);
        // Without a network the hosts file written at create is already right.
        await joined();
      }
      await this.deps.runc.start(id);
      return pid;
    } catch (e) {
      await unstage(stages);
      throw e;
    }
  }

  /** Undoes a launch that failed midway: runc's record, the network endpoints, a stale exit file. */
  async abort(id: string): Promise<void> {
    await this.deps.runc.delete(id, true).catch(() => {});
    await this.deps.network.release(id).catch(() => {});
    await rm(this.deps.paths.of(id).exitFile, { force: true });
  }

  /** conmon → runc create. A runc record left by a crash (the exit settled, the delete not) is cleared and the create retried once. */
  private async createWithConmon(record: ContainerRecord): Promise<number> {
    const id = record.id;
    const p = this.deps.paths.of(id);
    const launch = () =>
      this.deps.conmon.launch({
        id,
        name: record.name,
        bundle: p.bundle,
        pidFile: p.pidFile,
        conmonPidFile: p.conmonPidFile,
        exitDir: this.deps.paths.exitDir,
        persistDir: p.persist,
        logPath: p.log,
        runtimeLog: p.runtimeLog,
        socketDir: this.deps.paths.socketDir,
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

  private specInput(id: string, host: HostSettings, proc: Omit<ProcessInput, "consoleSize">, hostname: string, mounts: OciMount[] = []) {
    const [h, w] = host.ConsoleSize;
    return {
      id,
      rootfs: this.deps.paths.of(id).rootfs,
      readonlyRootfs: host.ReadonlyRootfs,
      hostname,
      process: { ...proc, consoleSize: h && w ? { height: h, width: w } : undefined },
      privileged: host.Privileged,
      capAdd: host.CapAdd,
      capDrop: host.CapDrop,
      noNewPrivileges: host.SecurityOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
      seccomp: host.SecurityOpt.some((o) => /^seccomp[=:]unconfined$/.test(o)) ? ("unconfined" as const) : ("default" as const),
      resources: resourcesOf(host),
      shmSize: host.ShmSize || 64 * 1024 * 1024,
      ulimits: host.Ulimits.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      hostLimits: this.deps.hostLimits,
      mounts,
      hostNetwork: host.NetworkMode === "host",
      cgroupsPath: this.deps.cgroupsPath(id),
      cgroupVersion: this.deps.cgroupVersion,
    };
  }
}
