// One merged, normalised compose service → the StackService Berth runs: its
// DeploySpec (what the policy gate judges), networks, dependencies, replicas,
// secrets and the settings beyond DeploySpec. Every implemented key lands
// somewhere; a value Berth can't honour is a problem at its path.

import { splitShellWords } from "../deploy/shell-words";
import { deploySpecSchema, type DeploySpecInput, type MountSpec, type PortSpec } from "../deploy/spec";
import { parseDotenv } from "./dotenv";
import type { Lookup } from "./interpolate";
import { isObj, listOrDict, type Obj } from "./merge";
import type { DependsOnCondition, StackDependency, StackFile, StackNetwork, StackService, StackServiceExtra, StackServiceNetwork, StackServiceSecret, StackVolume } from "./model";
import type { PathSegment } from "./path";
import { parsePort } from "./ports";
import { parseBytes, parseDuration } from "./units";

export interface MapContext {
  project: string;
  lookup: Lookup;
  files: Map<string, StackFile>;
  networks: Record<string, StackNetwork>;
  volumes: Record<string, StackVolume>;
  secrets: Set<string>;
  problem(path: PathSegment[], message: string, where?: { file: string; line: number }): void;
  warn(path: PathSegment[], message: string): void;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const strings = (v: unknown): string[] => (v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(String));

export function mapService(name: string, svc: Obj, ctx: MapContext): StackService | null {
  const at = (...rest: PathSegment[]): PathSegment[] => ["services", name, ...rest];
  let failed = false;
  const problem = (path: PathSegment[], message: string, where?: { file: string; line: number }) => {
    failed = true;
    ctx.problem(path, message, where);
  };

  if (typeof svc.image !== "string" || svc.image.trim() === "") {
    problem(at("image"), `service "${name}" needs an image: Berth stacks run images (build it and push it to a registry, then name it here)`);
  }

  const words = (key: "command" | "entrypoint"): string[] | undefined => {
    const v = svc[key];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v.map(String);
    try {
      return splitShellWords(String(v)).map((w) => w.value);
    } catch (e) {
      problem(at(key), `${key} "${String(v)}" can't be split into arguments: ${(e as Error).message}; give it as a list`);
      return undefined;
    }
  };

  // environment: env_file entries first (in order), then `environment` over them.
  const env = new Map<string, string>();
  (Array.isArray(svc.env_file) ? svc.env_file : []).forEach((entry, i) => {
    const { path, required } = isObj(entry) ? { path: String(entry.path), required: entry.required !== false } : { path: String(entry), required: true };
    const file = ctx.files.get(path);
    if (!file) {
      if (required) problem(at("env_file", i), `env_file "${path}" is not among the stack's files: upload it with the compose file (or mark it required: false)`);
      return;
    }
    const parsed = parseDotenv(file.content, ctx.lookup);
    if (!parsed.ok) {
      for (const p of parsed.problems) problem(at("env_file", i), `${path}: ${p.message}`, { file: path, line: p.line });
      return;
    }
    for (const key of parsed.order) env.set(key, parsed.vars[key]!);
  });
  for (const [key, value] of Object.entries(listOrDict(svc.environment))) {
    if (value !== null) env.set(key, value);
    else {
      const fromEnv = ctx.lookup(key);
      if (fromEnv !== undefined) env.set(key, fromEnv);
      else env.delete(key);
    }
  }

  const ports: PortSpec[] = [];
  (Array.isArray(svc.ports) ? svc.ports : []).forEach((p, i) => {
    const r = parsePort(p);
    if (r.ok) ports.push(...r.ports);
    else problem(at("ports", i), r.message);
  });

  const mounts: MountSpec[] = [];
  (Array.isArray(svc.volumes) ? svc.volumes : []).forEach((v, i) => {
    const r = mapVolume(v, ctx);
    if (typeof r === "string") problem(at("volumes", i), r);
    else mounts.push(r);
  });

  // Networks: the stack's (default: `default`), or network_mode host/none.
  const networkMode = str(svc.network_mode) ?? null;
  const networks: StackServiceNetwork[] = [];
  if (networkMode && svc.networks !== undefined) problem(at("network_mode"), `network_mode and networks can't be used together`);
  if (!networkMode) {
    const attached = isObj(svc.networks) ? svc.networks : { default: null };
    for (const [net, opts] of Object.entries(attached)) {
      if (!ctx.networks[net]) {
        problem(at("networks", net), `service "${name}" joins network "${net}", which is not declared in the top-level networks`);
        continue;
      }
      const o = isObj(opts) ? opts : {};
      networks.push({ network: net, aliases: strings(o.aliases), ...(o.ipv4_address ? { ipv4Address: String(o.ipv4_address) } : {}) });
    }
  }

  const dependsOn: StackDependency[] = Object.entries(isObj(svc.depends_on) ? svc.depends_on : {}).map(([service, d]) => {
    const o = isObj(d) ? d : {};
    return {
      service,
      condition: (str(o.condition) ?? "service_started") as DependsOnCondition,
      required: o.required !== false,
      restart: o.restart === true,
    };
  });

  const healthcheck = mapHealthcheck(svc.healthcheck, (path, m) => problem(at("healthcheck", ...path), m));
  const restartPolicy = mapRestart(svc.restart, (m) => problem(at("restart"), m));

  // Limits: deploy.resources.limits, or the older service-level keys (not both, unless they agree).
  const limits = isObj(svc.deploy) && isObj(svc.deploy.resources) && isObj(svc.deploy.resources.limits) ? svc.deploy.resources.limits : {};
  const limit = <T>(deployKey: string, legacyKey: string, parse: (v: string | number) => T | null, what: string): T | undefined => {
    const values: [PathSegment[], unknown][] = [];
    if (limits[deployKey] !== undefined) values.push([at("deploy", "resources", "limits", deployKey), limits[deployKey]]);
    if (svc[legacyKey] !== undefined) values.push([at(legacyKey), svc[legacyKey]]);
    let result: T | undefined;
    for (const [path, raw] of values) {
      const v = parse(raw as string | number);
      if (v === null) problem(path, `"${String(raw)}" is not ${what}`);
      else if (result !== undefined && result !== v) problem(path, `${legacyKey} and deploy.resources.limits.${deployKey} disagree: give one`);
      else result = v;
    }
    return result;
  };
  const memoryBytes = limit("memory", "mem_limit", parseBytes, "a size such as 512m or 1g");
  const cpus = limit("cpus", "cpus", (v) => (Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : null), "a number of CPUs such as 0.5");
  const pidsLimit = limit("pids", "pids_limit", (v) => (Number.isInteger(Number(v)) ? Number(v) : null), "a whole number of processes");

  let replicas = 1;
  const deployReplicas = isObj(svc.deploy) ? svc.deploy.replicas : undefined;
  if (deployReplicas !== undefined && svc.scale !== undefined && deployReplicas !== svc.scale) problem(at("scale"), `scale and deploy.replicas disagree: give one`);
  const wanted = deployReplicas ?? svc.scale;
  if (wanted !== undefined) {
    if (typeof wanted === "number" && Number.isInteger(wanted) && wanted >= 0 && wanted <= 100) replicas = wanted;
    else problem(deployReplicas !== undefined ? at("deploy", "replicas") : at("scale"), `replicas must be a whole number from 0 to 100`);
  }
  if (svc.container_name !== undefined && replicas > 1) problem(at("container_name"), `container_name "${String(svc.container_name)}" names one container, but the service asks for ${replicas} replicas`);

  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(listOrDict(svc.labels))) {
    if (key.startsWith("com.docker.compose.")) problem(at("labels", key), `label ${key} is set by Berth itself (docker compose's own labels)`);
    labels[key] = value ?? "";
  }

  const devices = strings(svc.devices).map((d, i) => {
    const parts = d.split(":");
    if (parts.length > 3) problem(at("devices", i), `"${d}" is not HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]`);
    return { hostPath: parts[0]!, ...(parts[1] ? { containerPath: parts[1] } : {}), ...(parts[2] ? { permissions: parts[2] } : {}) };
  });

  const secrets: StackServiceSecret[] = [];
  (Array.isArray(svc.secrets) ? svc.secrets : []).forEach((s, i) => {
    const o: Obj = isObj(s) ? s : { source: s };
    const source = String(o.source ?? "");
    if (!ctx.secrets.has(source)) {
      problem(at("secrets", i), `service "${name}" uses secret "${source}", which is not declared in the top-level secrets`);
      return;
    }
    const target = str(o.target) ?? source;
    if (!(target.startsWith("/") ? !target.split("/").includes("..") : /^[A-Za-z0-9._-]+$/.test(target) && target !== "." && target !== "..")) {
      problem(at("secrets", i, "target"), `"${target}" is not a file name or an absolute path`);
      return;
    }
    const mode = o.mode === undefined ? 0o444 : Number(o.mode);
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) problem(at("secrets", i, "mode"), `mode must be a file mode such as 0440`);
    secrets.push({ source, target, mode, ...(o.uid !== undefined ? { uid: String(o.uid) } : {}), ...(o.gid !== undefined ? { gid: String(o.gid) } : {}) });
  });

  const extra = mapExtra(svc, at, problem);
  const pullPolicy = svc.pull_policy === undefined ? "missing" : svc.pull_policy === "if_not_present" ? "missing" : String(svc.pull_policy);
  const first = networks[0];

  const input: DeploySpecInput = {
    image: String(svc.image ?? ""),
    pullPolicy: pullPolicy as DeploySpecInput["pullPolicy"],
    command: words("command"),
    entrypoint: words("entrypoint"),
    workingDir: str(svc.working_dir),
    user: str(svc.user),
    hostname: str(svc.hostname),
    env: [...env].map(([k, value]) => ({ name: k, value, secret: false })),
    ports,
    mounts,
    network: networkMode ?? (first ? ctx.networks[first.network]!.name : undefined),
    aliases: first?.aliases ?? [],
    restartPolicy,
    memoryBytes,
    cpus,
    pidsLimit,
    labels,
    privileged: svc.privileged === true,
    capAdd: strings(svc.cap_add),
    capDrop: strings(svc.cap_drop),
    pidMode: svc.pid === "host" ? "host" : undefined,
    ipcMode: svc.ipc === "host" ? "host" : undefined,
    devices,
    readOnlyRootfs: svc.read_only === true,
    healthcheck,
  };
  for (const key of Object.keys(input) as (keyof DeploySpecInput)[]) if (input[key] === undefined) delete input[key];
  if (failed) return null;
  const parsed = deploySpecSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [top, ...rest] = issue.path as PathSegment[];
      const key = SPEC_TO_COMPOSE[String(top)] ?? String(top);
      problem(at(...key.split(".")), `${key}${rest.length ? ` (${rest.join(".")})` : ""}: ${issue.message}`);
    }
    return null;
  }
  return {
    name,
    spec: parsed.data,
    networks,
    networkMode,
    dependsOn,
    replicas,
    secrets,
    extra,
    profiles: strings(svc.profiles),
  };
}

const SPEC_TO_COMPOSE: Record<string, string> = {
  env: "environment",
  mounts: "volumes",
  workingDir: "working_dir",
  memoryBytes: "deploy.resources.limits.memory",
  cpus: "deploy.resources.limits.cpus",
  pidsLimit: "deploy.resources.limits.pids",
  capAdd: "cap_add",
  capDrop: "cap_drop",
  readOnlyRootfs: "read_only",
  restartPolicy: "restart",
  pullPolicy: "pull_policy",
  aliases: "networks",
  network: "networks",
  pidMode: "pid",
  ipcMode: "ipc",
};

const VOLUME_FLAGS = new Set(["ro", "rw"]);

function mapVolume(v: unknown, ctx: MapContext): MountSpec | string {
  let type: string;
  let source: string | undefined;
  let target: string;
  let readOnly = false;
  let sizeBytes: number | undefined;
  if (isObj(v)) {
    type = String(v.type);
    source = str(v.source);
    target = String(v.target ?? "");
    readOnly = v.read_only === true;
    if (isObj(v.tmpfs) && v.tmpfs.size !== undefined) {
      const size = parseBytes(v.tmpfs.size as string | number);
      if (size === null || size === 0) return `tmpfs.size "${String(v.tmpfs.size)}" is not a size such as 64m`;
      sizeBytes = size;
    }
    if (!["volume", "bind", "tmpfs"].includes(type)) return `volume type "${type}" is not supported by Berth stacks: use volume, bind or tmpfs`;
  } else {
    const parts = String(v).split(":");
    if (parts.length > 3) return `"${String(v)}" is not [SOURCE:]TARGET[:MODE]`;
    if (parts.length === 1) {
      type = "volume";
      target = parts[0]!;
    } else {
      source = parts[0]!;
      target = parts[1]!;
      type = /^[.~/]/.test(source) ? "bind" : "volume";
      for (const flag of (parts[2] ?? "").split(",").filter(Boolean)) {
        if (!VOLUME_FLAGS.has(flag)) return `volume option "${flag}" is not supported by Berth stacks: use ro or rw`;
        if (flag === "ro") readOnly = true;
      }
    }
  }
  if (!target.startsWith("/")) return `the target "${target}" must be an absolute path in the container`;
  if (type === "tmpfs") return { type: "tmpfs", target, ...(sizeBytes ? { sizeBytes } : {}) };
  if (type === "bind") {
    if (!source) return "a bind mount needs its source (a path on the host)";
    if (!source.startsWith("/")) {
      return `the bind source "${source}" is relative; a Berth stack has no project directory on the host: use an absolute host path or a named volume`;
    }
    return { type: "bind", source, target, readOnly };
  }
  if (source === undefined || source === "") return { type: "volume", target, readOnly };
  const volume = ctx.volumes[source];
  if (!volume) return `volume "${source}" is not declared in the top-level volumes (declare it, or give an absolute path for a bind mount)`;
  return { type: "volume", source: volume.name, target, readOnly };
}

function mapHealthcheck(h: unknown, problem: (path: PathSegment[], m: string) => void): DeploySpecInput["healthcheck"] {
  if (!isObj(h)) return undefined;
  if (h.disable === true) return { test: ["NONE"] };
  let test: string[];
  if (typeof h.test === "string") test = ["CMD-SHELL", h.test];
  else if (Array.isArray(h.test)) {
    test = h.test.map(String);
    if (!["CMD", "CMD-SHELL", "NONE"].includes(test[0] ?? "")) {
      problem(["test"], `a test list starts with CMD, CMD-SHELL or NONE (got "${test[0] ?? ""}")`);
    }
  } else {
    problem([], "a healthcheck needs its test: Berth doesn't tune the image's own HEALTHCHECK");
    return undefined;
  }
  const seconds = (key: string): number | undefined => {
    if (h[key] === undefined) return undefined;
    const s = parseDuration(h[key] as string);
    if (s === null) problem([key], `"${String(h[key])}" is not a duration such as 10s or 1m30s`);
    return s ?? undefined;
  };
  const out = {
    test,
    intervalSeconds: seconds("interval"),
    timeoutSeconds: seconds("timeout"),
    startPeriodSeconds: seconds("start_period"),
    retries: h.retries === undefined ? undefined : Number(h.retries),
  };
  for (const k of Object.keys(out) as (keyof typeof out)[]) if (out[k] === undefined) delete out[k];
  return out;
}

function mapRestart(r: unknown, problem: (m: string) => void): DeploySpecInput["restartPolicy"] {
  if (r === undefined || r === null) return { name: "no" };
  const text = String(r);
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(text);
  if (!m || (m[2] !== undefined && m[1] !== "on-failure")) {
    problem(`"${text}" is not a restart policy: use no, always, unless-stopped or on-failure[:N]`);
    return { name: "no" };
  }
  return { name: m[1] as "no", ...(m[2] !== undefined ? { maximumRetryCount: Number(m[2]) } : {}) };
}

function mapExtra(svc: Obj, at: (...rest: PathSegment[]) => PathSegment[], problem: (path: PathSegment[], m: string) => void): StackServiceExtra {
  const extra: StackServiceExtra = {};
  if (svc.container_name !== undefined) {
    const n = String(svc.container_name);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(n)) problem(at("container_name"), `"${n}" is not a container name (letters, digits, _ . -)`);
    extra.containerName = n;
  }
  if (svc.stop_signal !== undefined) extra.stopSignal = String(svc.stop_signal);
  if (svc.stop_grace_period !== undefined) {
    const s = parseDuration(svc.stop_grace_period as string);
    if (s === null) problem(at("stop_grace_period"), `"${String(svc.stop_grace_period)}" is not a duration such as 10s or 1m30s`);
    else extra.stopGracePeriodSeconds = s;
  }
  if (svc.init !== undefined) extra.init = svc.init === true;
  if (svc.tty !== undefined) extra.tty = svc.tty === true;
  if (svc.stdin_open !== undefined) extra.stdinOpen = svc.stdin_open === true;
  if (svc.extra_hosts !== undefined) extra.extraHosts = strings(svc.extra_hosts);
  if (svc.dns !== undefined) extra.dns = strings(svc.dns);
  if (svc.dns_search !== undefined) extra.dnsSearch = strings(svc.dns_search);
  if (svc.sysctls !== undefined) {
    extra.sysctls = {};
    for (const [k, v] of Object.entries(listOrDict(svc.sysctls))) {
      if (v === null) problem(at("sysctls", k), `sysctl ${k} needs a value`);
      else extra.sysctls[k] = v;
    }
  }
  if (isObj(svc.ulimits)) {
    extra.ulimits = {};
    for (const [k, v] of Object.entries(svc.ulimits)) {
      const soft = isObj(v) ? Number(v.soft) : Number(v);
      const hard = isObj(v) ? Number(v.hard) : Number(v);
      if (!Number.isInteger(soft) || !Number.isInteger(hard) || soft > hard) problem(at("ulimits", k), `ulimit ${k} needs whole numbers with soft ≤ hard`);
      else extra.ulimits[k] = { soft, hard };
    }
  }
  if (svc.shm_size !== undefined) {
    const b = parseBytes(svc.shm_size as string | number);
    if (b === null) problem(at("shm_size"), `"${String(svc.shm_size)}" is not a size such as 64m`);
    else extra.shmSizeBytes = b;
  }
  if (svc.security_opt !== undefined) extra.securityOpt = strings(svc.security_opt);
  if (svc.group_add !== undefined) extra.groupAdd = strings(svc.group_add);
  if (svc.domainname !== undefined) extra.domainname = String(svc.domainname);
  if (svc.mac_address !== undefined) extra.macAddress = String(svc.mac_address);
  if (svc.tmpfs !== undefined) {
    extra.tmpfs = strings(svc.tmpfs);
    extra.tmpfs.forEach((t, i) => {
      if (!t.startsWith("/")) problem(at("tmpfs", i), `"${t}" must be an absolute path in the container`);
    });
  }
  if (isObj(svc.logging)) {
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries(isObj(svc.logging.options) ? svc.logging.options : {})) if (v !== null) options[k] = String(v);
    extra.logging = { driver: str(svc.logging.driver) ?? "json-file", options };
  }
  if (svc.expose !== undefined) extra.expose = strings(svc.expose);
  return extra;
}
