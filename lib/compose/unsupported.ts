// Berth's allowlist: what the Compose Specification allows but Berth stacks
// don't implement is refused here by its path, with what to do instead —
// never dropped silently. Runs on each file after interpolation and schema
// validation, so every refusal has the file and line of the key.

import { formatPath, type PathSegment } from "./path";

export interface Refusal {
  path: PathSegment[];
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const isExtension = (key: string) => key.startsWith("x-");

const TOP_LEVEL = new Set(["version", "name", "services", "networks", "volumes", "secrets"]);
const TOP_LEVEL_HINTS: Record<string, string> = {
  configs: "use a Berth secret (mounted as a file) or a volume",
  include: "add the other files to the stack and list them as its compose files, merged in order",
};

export const SERVICE_KEYS = new Set([
  "image", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes", "tmpfs", "networks", "network_mode",
  "depends_on", "healthcheck", "restart", "user", "working_dir", "hostname", "domainname", "labels", "deploy", "scale",
  "cap_add", "cap_drop", "privileged", "read_only", "devices", "pid", "ipc", "init", "tty", "stdin_open", "stop_signal",
  "stop_grace_period", "extra_hosts", "dns", "dns_search", "sysctls", "ulimits", "shm_size", "security_opt", "group_add",
  "container_name", "logging", "secrets", "pull_policy", "profiles", "extends", "mac_address", "cpus", "mem_limit", "pids_limit",
]);

const SERVICE_HINTS: Record<string, string> = {
  build: "build the image and push it to a registry, then name it in `image`",
  configs: "use a Berth secret (mounted as a file) or a volume",
  links: "services on a shared network reach each other by service name; use network aliases for other names",
  external_links: "put the containers on a shared external network and use their names",
  volumes_from: "declare a named volume and mount it in both services",
  develop: "watch/sync is a development feature of the compose CLI",
  platform: "the host runs its own architecture; pull an image for it",
  runtime: "Berth hosts run runc",
  userns_mode: "user namespaces are not configurable per stack",
  cgroup_parent: "Berth places containers in its own cgroups",
  isolation: "a Windows setting",
  credential_spec: "a Windows setting",
  storage_opt: "the host's overlay storage takes no per-container options",
  mem_reservation: "use deploy.resources.limits.memory",
  memswap_limit: "use deploy.resources.limits.memory",
  blkio_config: "block-I/O weights are not configurable",
  dns_opt: "use dns and dns_search",
  device_cgroup_rules: "list the devices in `devices`",
};

export function findUnsupported(doc: Obj): Refusal[] {
  const out: Refusal[] = [];
  // "services.web.build is not supported…" for a key; "services.web.pid: "x" is not…" for a value.
  const refuse = (path: PathSegment[], message: string) =>
    out.push({ path, message: message.startsWith("is not supported") ? `${formatPath(path)} ${message}` : `${formatPath(path)}: ${message}` });
  for (const key of Object.keys(doc)) {
    if (TOP_LEVEL.has(key) || isExtension(key)) continue;
    refuse([key], `is not supported by Berth stacks${TOP_LEVEL_HINTS[key] ? `: ${TOP_LEVEL_HINTS[key]}` : ""}`);
  }
  if (isObj(doc.services)) for (const [name, svc] of Object.entries(doc.services)) if (isObj(svc)) serviceRefusals(name, svc, refuse);
  if (isObj(doc.networks)) for (const [name, n] of Object.entries(doc.networks)) if (isObj(n)) networkRefusals(name, n, refuse);
  if (isObj(doc.volumes)) for (const [name, v] of Object.entries(doc.volumes)) if (isObj(v)) volumeRefusals(name, v, refuse);
  if (isObj(doc.secrets)) for (const [name, s] of Object.entries(doc.secrets)) if (isObj(s)) secretRefusals(name, s, refuse);
  return out;
}

type Refuse = (path: PathSegment[], message: string) => void;

function onlyKeys(value: Obj, path: PathSegment[], allowed: readonly string[], refuse: Refuse, hint = "") {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key) || isExtension(key)) continue;
    refuse([...path, key], `is not supported by Berth stacks${hint ? `: ${hint}` : ""}`);
  }
}

function serviceRefusals(name: string, svc: Obj, refuse: Refuse) {
  const at = (...rest: PathSegment[]) => ["services", name, ...rest];
  for (const key of Object.keys(svc)) {
    if (SERVICE_KEYS.has(key) || isExtension(key)) continue;
    refuse(at(key), `is not supported by Berth stacks${SERVICE_HINTS[key] ? `: ${SERVICE_HINTS[key]}` : ""}`);
  }
  if (typeof svc.network_mode === "string" && !["host", "none"].includes(svc.network_mode)) {
    refuse(
      at("network_mode"),
      svc.network_mode.startsWith("service:") || svc.network_mode.startsWith("container:")
        ? `"${svc.network_mode}" (sharing another container's network stack) is not supported by Berth stacks: put both services on one network`
        : `"${svc.network_mode}" is not supported by Berth stacks: use "host", "none", or the stack's networks`,
    );
  }
  if (svc.pid !== undefined && svc.pid !== null && svc.pid !== "host") refuse(at("pid"), `"${String(svc.pid)}" is not supported by Berth stacks: only "host"`);
  if (svc.ipc !== undefined && svc.ipc !== "host") refuse(at("ipc"), `"${String(svc.ipc)}" is not supported by Berth stacks: only "host"`);
  if (svc.pull_policy === "build") refuse(at("pull_policy"), `"build" is not supported by Berth stacks: build the image and push it to a registry`);
  if (isObj(svc.deploy)) {
    onlyKeys(svc.deploy, at("deploy"), ["replicas", "resources"], refuse, "Berth stacks implement deploy.replicas and deploy.resources.limits (swarm settings have no effect on one host)");
    const resources = svc.deploy.resources;
    if (isObj(resources)) {
      onlyKeys(resources, at("deploy", "resources"), ["limits"], refuse, "only limits are enforced");
      if (isObj(resources.limits)) onlyKeys(resources.limits, at("deploy", "resources", "limits"), ["cpus", "memory", "pids"], refuse);
    }
  }
  if (isObj(svc.healthcheck)) {
    onlyKeys(svc.healthcheck, at("healthcheck"), ["test", "interval", "timeout", "start_period", "retries", "disable"], refuse);
  }
  if (Array.isArray(svc.ports)) {
    svc.ports.forEach((p, i) => {
      if (!isObj(p)) return;
      onlyKeys(p, at("ports", i), ["target", "published", "host_ip", "protocol", "mode"], refuse);
      if (p.mode !== undefined && p.mode !== "host") refuse(at("ports", i, "mode"), `mode "${String(p.mode)}" is a swarm setting: Berth publishes ports on the host ("host")`);
    });
  }
  if (Array.isArray(svc.volumes)) {
    svc.volumes.forEach((v, i) => {
      if (!isObj(v)) return;
      onlyKeys(v, at("volumes", i), ["type", "source", "target", "read_only", "bind", "tmpfs"], refuse);
      if (isObj(v.bind)) {
        onlyKeys(v.bind, at("volumes", i, "bind"), ["create_host_path"], refuse, "bind mounts are private, without propagation or SELinux options");
        if (v.bind.create_host_path === false) refuse(at("volumes", i, "bind", "create_host_path"), "false is not supported by Berth stacks: a missing host path is created");
      }
      if (isObj(v.tmpfs)) onlyKeys(v.tmpfs, at("volumes", i, "tmpfs"), ["size"], refuse);
    });
  }
  if (isObj(svc.networks)) {
    for (const [net, attach] of Object.entries(svc.networks)) {
      if (isObj(attach)) onlyKeys(attach, at("networks", net), ["aliases", "ipv4_address"], refuse);
    }
  }
  if (isObj(svc.logging)) onlyKeys(svc.logging, at("logging"), ["driver", "options"], refuse);
}

function networkRefusals(name: string, n: Obj, refuse: Refuse) {
  const at = (...rest: PathSegment[]) => ["networks", name, ...rest];
  onlyKeys(n, at(), ["name", "external", "internal", "driver", "labels", "driver_opts", "ipam", "enable_ipv6"], refuse);
  if (n.driver !== undefined && n.driver !== "bridge") refuse(at("driver"), `"${String(n.driver)}" is not supported by Berth stacks: networks are bridges ("bridge")`);
  if (n.enable_ipv6 === true) refuse(at("enable_ipv6"), "IPv6 networks are not supported by Berth stacks");
  if (isObj(n.ipam)) {
    onlyKeys(n.ipam, at("ipam"), ["driver", "config"], refuse);
    if (n.ipam.driver !== undefined && n.ipam.driver !== "default") refuse(at("ipam", "driver"), `"${String(n.ipam.driver)}" is not supported by Berth stacks: only "default"`);
    if (Array.isArray(n.ipam.config)) {
      if (n.ipam.config.length > 1) refuse(at("ipam", "config", 1), "Berth networks take one subnet: give one ipam.config entry");
      n.ipam.config.forEach((c, i) => {
        if (isObj(c)) onlyKeys(c, at("ipam", "config", i), ["subnet", "gateway"], refuse);
      });
    }
  }
}

function volumeRefusals(name: string, v: Obj, refuse: Refuse) {
  const at = (...rest: PathSegment[]) => ["volumes", name, ...rest];
  onlyKeys(v, at(), ["name", "external", "driver", "labels", "driver_opts"], refuse);
  if (v.driver !== undefined && v.driver !== "local") refuse(at("driver"), `"${String(v.driver)}" is not supported by Berth stacks: volumes are local ("local")`);
}

const SECRET_HINT = "store the value as a Berth secret (Secrets page) and declare it `external: true`";

function secretRefusals(name: string, s: Obj, refuse: Refuse) {
  const at = (...rest: PathSegment[]) => ["secrets", name, ...rest];
  for (const key of Object.keys(s)) {
    if (key === "name" || key === "external" || isExtension(key)) continue;
    refuse(at(key), key === "file" || key === "environment" ? `a secret's value from \`${key}\` is not supported by Berth stacks: ${SECRET_HINT}` : "is not supported by Berth stacks");
  }
  if (s.external === undefined && s.file === undefined && s.environment === undefined) refuse(at(), `secret "${name}" must be declared \`external: true\`: ${SECRET_HINT}`);
  if (s.external === false) refuse(at("external"), `secret "${name}" must be \`external: true\`: ${SECRET_HINT}`);
}
