import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Confinement } from "../../lib/confinement";
import { writeFileAtomic } from "../state/atomic-write";
import type { HealthState } from "./health";
import type { Status } from "./status";
import type { ApiMount, MountSpec } from "../../lib/docker/mounts";

// Container metadata on disk: root/containers/<id>/container.json, replaced
// atomically (temp + fsync + rename), so a crash mid-write leaves the old or
// the new record, never a torn one.

export interface ContainerState {
  status: Status;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  /** Set by an explicit stop/kill, so restart policies (and unless-stopped after reboot) leave it down. */
  manuallyStopped: boolean;
  restartCount: number;
  /** The boot in which the container was last started: a different boot id means the host rebooted. */
  bootId: string;
  /** State.Health: set when the container first starts with a health check; kept here so it outlives the agent. */
  health?: HealthState;
}

export interface RestartPolicy {
  Name: "" | "no" | "always" | "on-failure" | "unless-stopped";
  MaximumRetryCount: number;
}

/** What `docker inspect` shows as Config (the merged image + request config). */
export interface DockerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts: Record<string, object> | null;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal: string;
  StopTimeout?: number | null;
  Healthcheck?: unknown;
}

/** The resource and runtime settings we enforce, normalised from HostConfig. */
export interface HostSettings {
  Privileged: boolean;
  CapAdd: string[];
  CapDrop: string[];
  ReadonlyRootfs: boolean;
  SecurityOpt: string[];
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  PidsLimit: number;
  ShmSize: number;
  Ulimits: { Name: string; Soft: number; Hard: number }[];
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  NetworkMode: string;
  Binds: string[];
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  Dns: string[];
  DnsSearch: string[];
  DnsOptions: string[];
  ExtraHosts: string[];
  ConsoleSize: [number, number];
  LogConfig: { Type: string; Config: Record<string, string> };
  PublishAllPorts: boolean;
  Links: string[];
  Tmpfs: Record<string, string>;
  Mounts: ApiMount[];
  /** --volumes-from, as given ("container[:ro|rw]"); the mounts it brought are in the record's mounts. */
  VolumesFrom?: string[];
  /** Set by docker update where the host's cgroups can weigh block I/O. */
  BlkioWeight?: number;
}

/** A network the container joins when it starts (user-defined or the default bridge). */
export interface NetworkAttachment {
  /** Network id (stable across renames). */
  networkId: string;
  aliases: string[];
  /** The address asked for (--ip, IPAMConfig.IPv4Address); otherwise the network picks one at each start. */
  ipv4Address?: string;
}

export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  created: string;
  imageId: string;
  /** Top ChainID of the image: the container's lower layers. */
  imageChainId: string;
  path: string;
  args: string[];
  config: DockerConfig;
  host: HostSettings;
  state: ContainerState;
  /** Networks joined at start, in order (eth0 first); empty for --network none and host. */
  networks: NetworkAttachment[];
  /** Binds, --mount, --tmpfs and the image's VOLUMEs, resolved at create (volume names filled in). */
  mounts: MountSpec[];
  /** The deploy policy's limits the gateway created it under, applied again at every start. */
  confinement?: Confinement;
}

export class ContainerStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, "containers");
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  containerDir(id: string): string {
    return path.join(this.dir, id);
  }

  /** Every record that reads back whole. A directory without a record is a create that crashed: removed. */
  async loadAll(): Promise<{ records: ContainerRecord[]; orphans: string[] }> {
    const records: ContainerRecord[] = [];
    const orphans: string[] = [];
    for (const id of await readdir(this.dir)) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      try {
        records.push(JSON.parse(await readFile(path.join(this.dir, id, "container.json"), "utf8")) as ContainerRecord);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") orphans.push(id);
        else throw e;
      }
    }
    return { records, orphans };
  }

  async save(record: ContainerRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir, record.id, "container.json"), JSON.stringify(record), 0o600);
  }

  async removeDir(id: string): Promise<void> {
    await rm(this.containerDir(id), { recursive: true, force: true });
  }
}
