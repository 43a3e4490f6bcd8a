// A stack as Berth runs it: what lib/compose/load.ts makes of a compose
// project (its files, its .env, the profiles asked for), after YAML parsing,
// interpolation, merging, `extends`, schema validation and Berth's own
// refusals. Pure data: the policy gate judges each service's `spec`, the
// gateway's apply engine converges a host to it, and a version stores it
// (it never holds a secret's value, only the name of the Berth secret).

import type { DeploySpec } from "../deploy/spec";

/** The files of a stack as uploaded or typed: compose files, `.env`, env_files. Paths are relative, "/"-separated. */
export interface StackFile {
  path: string;
  content: string;
}

export interface StackSource {
  files: StackFile[];
  /** The compose files, merged in this order (default: ["compose.yaml"] or the one compose file there is). */
  composeFiles?: string[];
  /** Profiles to enable (services without `profiles` always run). */
  profiles?: string[];
}

/** One problem with a stack's source, located as precisely as we can. */
export interface StackProblem {
  /** The file it is in. */
  file?: string;
  /** Where in the document: "services.web.ports[0]" (dots and [n]); "" for the whole file. */
  path: string;
  /** 1-based, when the YAML node is known. */
  line?: number;
  column?: number;
  message: string;
}

export type DependsOnCondition = "service_started" | "service_healthy" | "service_completed_successfully";

export interface StackDependency {
  service: string;
  condition: DependsOnCondition;
  /** `required: false`: a missing or failed dependency doesn't stop this service. */
  required: boolean;
  /** `restart: true`: this service is restarted when that one is recreated. */
  restart: boolean;
}

/** A service's attachment to one of the stack's networks (by the network's key in `networks`). */
export interface StackServiceNetwork {
  network: string;
  aliases: string[];
  ipv4Address?: string;
}

/** A Berth secret mounted as a file (`/run/secrets/<target>` unless target is absolute). */
export interface StackServiceSecret {
  /** The secret's key in the stack's `secrets`. */
  source: string;
  target: string;
  /** File mode, default 0o444. */
  mode: number;
  uid?: string;
  gid?: string;
}

export interface StackService {
  name: string;
  /**
   * The container as a single deploy would describe it: image, command, env,
   * ports, mounts (volume sources are the volumes' real names), resources,
   * privileges… `network`/`aliases` hold the first network's real name and
   * aliases; the rest are in `networks`. The policy gate judges this.
   */
  spec: DeploySpec;
  /** Every network the service joins, in order (first = the one its containers are created on). */
  networks: StackServiceNetwork[];
  /** "host" / "none" / "service:<name>" / "container:<name>" when given; null for the stack's networks. */
  networkMode: string | null;
  dependsOn: StackDependency[];
  /** deploy.replicas (or scale); default 1. */
  replicas: number;
  secrets: StackServiceSecret[];
  /** Settings beyond DeploySpec that the create body carries (each one implemented, never dropped). */
  extra: StackServiceExtra;
  /** The profiles that enable it ([] = always). */
  profiles: string[];
}

export interface StackServiceExtra {
  containerName?: string;
  stopSignal?: string;
  stopGracePeriodSeconds?: number;
  init?: boolean;
  tty?: boolean;
  stdinOpen?: boolean;
  extraHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  sysctls?: Record<string, string>;
  ulimits?: Record<string, { soft: number; hard: number }>;
  shmSizeBytes?: number;
  securityOpt?: string[];
  groupAdd?: string[];
  domainname?: string;
  macAddress?: string;
  /** tmpfs mounts given as `tmpfs:` (mounts of type tmpfs are in spec.mounts). */
  tmpfs?: string[];
  logging?: { driver: string; options: Record<string, string> };
  expose?: string[];
}

export interface StackNetwork {
  /** The network's name on the host: `<project>_<key>` unless `name:` or external. */
  name: string;
  external: boolean;
  internal: boolean;
  driver: string;
  labels: Record<string, string>;
  driverOpts: Record<string, string>;
  /** IPAM config given: subnet/gateway (first config only). */
  subnet?: string;
  gateway?: string;
}

export interface StackVolume {
  /** The volume's name on the host: `<project>_<key>` unless `name:` or external. */
  name: string;
  external: boolean;
  driver: string;
  labels: Record<string, string>;
  driverOpts: Record<string, string>;
}

export interface StackSecret {
  /** The Berth secret (Secrets page) whose value is mounted: `name:` or the key. Declared `external: true`. */
  berthSecret: string;
}

export interface StackModel {
  /** The project name: `name:` in the file, else the stack's name. Lower case [a-z0-9_-]. */
  project: string;
  /** Services that run with the profiles asked for, in dependency order (every dependency before its dependents). */
  services: StackService[];
  networks: Record<string, StackNetwork>;
  volumes: Record<string, StackVolume>;
  secrets: Record<string, StackSecret>;
}

export type LoadResult = { ok: true; model: StackModel; warnings: StackProblem[] } | { ok: false; problems: StackProblem[] };

/** Labels the containers, networks and volumes of a stack carry (docker compose's own, so its `ps` sees them). */
export const COMPOSE_LABELS = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  containerNumber: "com.docker.compose.container-number",
  oneoff: "com.docker.compose.oneoff",
  configHash: "com.docker.compose.config-hash",
  network: "com.docker.compose.network",
  volume: "com.docker.compose.volume",
  version: "com.docker.compose.version",
  dependsOn: "com.docker.compose.depends_on",
} as const;

/** A container's name for replica `n` (1-based) of a service: docker compose v2's form. */
export function containerNameOf(project: string, service: StackService, n: number): string {
  return service.extra.containerName ?? `${project}-${service.name}-${n}`;
}
