import { formatByteSize, parseByteSize } from "@/lib/deploy/docker-run/units";
import { joinShellWords, ShellWordsError, splitShellWords } from "@/lib/deploy/shell-words";
import { type DeploySpec, type DeploySpecInput, deploySpecSchema, PULL_POLICIES } from "@/lib/deploy/spec";

// The deploy form's state and its two directions: form → spec input (with the
// form field each schema issue or policy violation belongs to) and spec input
// → form (a pasted `docker run`). Pure: no React, no network.

export type PullPolicy = (typeof PULL_POLICIES)[number];
export type RestartName = "no" | "always" | "unless-stopped" | "on-failure";
export type MemoryUnit = "k" | "m" | "g";
export type HealthMode = "image" | "command" | "none";

export interface EnvRow {
  key: string;
  name: string;
  value: string;
  secret: boolean;
}
export interface PortRow {
  key: string;
  hostIp: string;
  hostPort: string;
  containerPort: string;
  protocol: "tcp" | "udp";
}
export interface MountRow {
  key: string;
  type: "volume" | "bind" | "tmpfs";
  source: string;
  target: string;
  readOnly: boolean;
  /** tmpfs only, as typed: 64m, 1g, 1048576. */
  size: string;
}
export interface LabelRow {
  key: string;
  name: string;
  value: string;
}
export interface DeviceRow {
  key: string;
  hostPath: string;
  containerPath: string;
  permissions: string;
}

export interface DeployFormState {
  hostId: string;
  image: string;
  registryId: string;
  pullPolicy: PullPolicy;
  name: string;
  /** One line each, split like a shell would (quotes, no expansion). */
  command: string;
  entrypoint: string;
  workingDir: string;
  user: string;
  hostname: string;
  env: EnvRow[];
  ports: PortRow[];
  mounts: MountRow[];
  /** Empty: the default bridge. Ignored while hostNetwork is ticked. */
  network: string;
  /** Space- or comma-separated. */
  aliases: string;
  hostNetwork: boolean;
  restart: RestartName;
  maxRetries: string;
  memory: string;
  memoryUnit: MemoryUnit;
  cpus: string;
  pidsLimit: string;
  labels: LabelRow[];
  privileged: boolean;
  /** Space- or comma-separated capability names. */
  capAdd: string;
  capDrop: string;
  pidHost: boolean;
  ipcHost: boolean;
  devices: DeviceRow[];
  readOnlyRootfs: boolean;
  healthMode: HealthMode;
  healthCmd: string;
  healthInterval: string;
  healthTimeout: string;
  healthStartPeriod: string;
  healthRetries: string;
}

let nextKey = 0;
/** A stable key for a new row (React keys and field ids). */
export const rowKey = () => `r${++nextKey}`;

export const emptyEnv = (): EnvRow => ({ key: rowKey(), name: "", value: "", secret: false });
export const emptyPort = (): PortRow => ({ key: rowKey(), hostIp: "", hostPort: "", containerPort: "", protocol: "tcp" });
export const emptyMount = (): MountRow => ({ key: rowKey(), type: "volume", source: "", target: "", readOnly: false, size: "" });
export const emptyLabel = (): LabelRow => ({ key: rowKey(), name: "", value: "" });
export const emptyDevice = (): DeviceRow => ({ key: rowKey(), hostPath: "", containerPath: "", permissions: "rwm" });

export function emptyForm(hostId = ""): DeployFormState {
  return {
    hostId,
    image: "",
    registryId: "",
    pullPolicy: "missing",
    name: "",
    command: "",
    entrypoint: "",
    workingDir: "",
    user: "",
    hostname: "",
    env: [],
    ports: [],
    mounts: [],
    network: "",
    aliases: "",
    hostNetwork: false,
    restart: "no",
    maxRetries: "",
    memory: "",
    memoryUnit: "m",
    cpus: "",
    pidsLimit: "",
    labels: [],
    privileged: false,
    capAdd: "",
    capDrop: "",
    pidHost: false,
    ipcHost: false,
    devices: [],
    readOnlyRootfs: false,
    healthMode: "image",
    healthCmd: "",
    healthInterval: "",
    healthTimeout: "",
    healthStartPeriod: "",
    healthRetries: "",
  };
}

/** Where each list's spec entries came from, to put an issue at "env.<row key>.name". */
interface RowIndex {
  env: string[];
  ports: string[];
  mounts: string[];
  devices: string[];
  labels: Map<string, string>;
}

export interface BuiltSpec {
  input: DeploySpecInput;
  /** Problems the form finds before the schema (a number that isn't, an unclosed quote), by field id. */
  issues: Record<string, string>;
  /** Notes that aren't errors, by field id (e.g. "$HOME is taken literally"). */
  notes: Record<string, string>;
  index: RowIndex;
}

const words = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter(Boolean);

function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

function decimal(text: string): number | null {
  const t = text.trim();
  return /^(\d+(\.\d*)?|\.\d+)$/.test(t) ? Number(t) : null;
}

/** Seconds from "30", "30s", "1m30s", "500ms". */
export function parseSeconds(text: string): number | null {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let at = 0;
  let total = 0;
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (!m) return null;
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
    at = re.lastIndex;
  }
  return t ? total : null;
}

function splitLine(text: string, field: string, issues: Record<string, string>, notes: Record<string, string>): string[] | undefined {
  if (!text.trim()) return undefined;
  try {
    const split = splitShellWords(text);
    const expanded = split.filter((w) => w.expands).map((w) => w.value);
    if (expanded.length) notes[field] = `Taken as typed: ${expanded.join(", ")} is not expanded here (the container's own shell expands it inside sh -c '…').`;
    return split.map((w) => w.value);
  } catch (e) {
    issues[field] = e instanceof ShellWordsError ? e.message : "can't split this line into words";
    return undefined;
  }
}

/** The form as a spec input (not yet validated), plus the form's own problems. */
export function buildSpec(f: DeployFormState): BuiltSpec {
  const issues: Record<string, string> = {};
  const notes: Record<string, string> = {};
  const index: RowIndex = { env: [], ports: [], mounts: [], devices: [], labels: new Map() };
  const spec: DeploySpecInput = { image: f.image, pullPolicy: f.pullPolicy };
  if (f.registryId) spec.registryId = f.registryId;
  if (f.name.trim()) spec.name = f.name.trim();
  const command = splitLine(f.command, "command", issues, notes);
  if (command) spec.command = command;
  const entrypoint = splitLine(f.entrypoint, "entrypoint", issues, notes);
  if (entrypoint) spec.entrypoint = entrypoint;
  if (f.workingDir.trim()) spec.workingDir = f.workingDir.trim();
  if (f.user.trim()) spec.user = f.user.trim();
  if (f.hostname.trim()) spec.hostname = f.hostname.trim();

  const env: NonNullable<DeploySpecInput["env"]> = [];
  for (const row of f.env) {
    if (!row.name && !row.value) continue;
    index.env.push(row.key);
    env.push({ name: row.name, value: row.value, secret: row.secret });
  }
  spec.env = env;

  const ports: NonNullable<DeploySpecInput["ports"]> = [];
  for (const row of f.ports) {
    if (!row.hostPort.trim() && !row.containerPort.trim() && !row.hostIp.trim()) continue;
    const containerPort = wholeNumber(row.containerPort);
    if (containerPort === null) issues[`ports.${row.key}.containerPort`] = row.containerPort.trim() ? "a port number, 1 to 65535" : "enter the container's port";
    let hostPort: number | undefined;
    if (row.hostPort.trim()) {
      const n = wholeNumber(row.hostPort);
      if (n === null) issues[`ports.${row.key}.hostPort`] = "a port number, 1 to 65535 (or empty: any free port)";
      else hostPort = n;
    }
    index.ports.push(row.key);
    ports.push({
      ...(row.hostIp.trim() ? { hostIp: row.hostIp.trim() } : {}),
      ...(hostPort !== undefined ? { hostPort } : {}),
      containerPort: containerPort ?? 0,
      protocol: row.protocol,
    });
  }
  spec.ports = ports;

  const mounts: NonNullable<DeploySpecInput["mounts"]> = [];
  for (const row of f.mounts) {
    if (!row.source.trim() && !row.target.trim() && !row.size.trim()) continue;
    index.mounts.push(row.key);
    if (row.type === "tmpfs") {
      let sizeBytes: number | undefined;
      if (row.size.trim()) {
        const n = parseByteSize(row.size.trim());
        if (n === null || n === 0) issues[`mounts.${row.key}.sizeBytes`] = "a size such as 64m or 1g";
        else sizeBytes = n;
      }
      mounts.push({ type: "tmpfs", target: row.target.trim(), ...(sizeBytes ? { sizeBytes } : {}) });
    } else if (row.type === "bind") {
      mounts.push({ type: "bind", source: row.source.trim(), target: row.target.trim(), readOnly: row.readOnly });
    } else {
      mounts.push({ type: "volume", ...(row.source.trim() ? { source: row.source.trim() } : {}), target: row.target.trim(), readOnly: row.readOnly });
    }
  }
  spec.mounts = mounts;

  if (f.hostNetwork) spec.network = "host";
  else if (f.network.trim()) spec.network = f.network.trim();
  const aliases = words(f.aliases);
  spec.aliases = aliases;
  if (aliases.length && (!spec.network || ["bridge", "default", "host", "none"].includes(spec.network))) {
    issues.aliases = "aliases need a user-defined network (not bridge, host or none)";
  }

  if (f.restart === "on-failure" && f.maxRetries.trim()) {
    const n = wholeNumber(f.maxRetries);
    if (n === null) issues.restartPolicy = "the maximum retry count is a whole number";
    spec.restartPolicy = { name: "on-failure", ...(n !== null ? { maximumRetryCount: n } : {}) };
  } else {
    spec.restartPolicy = { name: f.restart };
  }

  if (f.memory.trim()) {
    const bytes = parseByteSize(`${f.memory.trim()}${f.memoryUnit}`);
    if (bytes === null) issues.memoryBytes = "a number, e.g. 512 (with the unit beside it)";
    else spec.memoryBytes = bytes;
  }
  if (f.cpus.trim()) {
    const n = decimal(f.cpus);
    if (n === null) issues.cpus = "a number of CPUs, e.g. 0.5 or 2";
    else spec.cpus = n;
  }
  if (f.pidsLimit.trim()) {
    const n = wholeNumber(f.pidsLimit);
    if (n === null) issues.pidsLimit = "a whole number of processes";
    else spec.pidsLimit = n;
  }

  const labels: Record<string, string> = {};
  for (const row of f.labels) {
    if (!row.name && !row.value) continue;
    if (!row.name.trim()) {
      issues[`labels.${row.key}`] = "enter the label's key";
      continue;
    }
    if (index.labels.has(row.name)) issues[`labels.${row.key}`] = "this key is already set above";
    index.labels.set(row.name, row.key);
    labels[row.name] = row.value;
  }
  spec.labels = labels;

  spec.privileged = f.privileged;
  spec.capAdd = words(f.capAdd);
  spec.capDrop = words(f.capDrop);
  if (f.pidHost) spec.pidMode = "host";
  if (f.ipcHost) spec.ipcMode = "host";

  const devices: NonNullable<DeploySpecInput["devices"]> = [];
  for (const row of f.devices) {
    if (!row.hostPath.trim() && !row.containerPath.trim()) continue;
    index.devices.push(row.key);
    devices.push({
      hostPath: row.hostPath.trim(),
      ...(row.containerPath.trim() ? { containerPath: row.containerPath.trim() } : {}),
      permissions: row.permissions.trim() || "rwm",
    });
  }
  spec.devices = devices;
  spec.readOnlyRootfs = f.readOnlyRootfs;

  if (f.healthMode === "none") spec.healthcheck = { test: ["NONE"] };
  else if (f.healthMode === "command") {
    if (!f.healthCmd.trim()) issues["healthcheck.test"] = "enter the command that checks the container";
    const hc: NonNullable<DeploySpecInput["healthcheck"]> = { test: ["CMD-SHELL", f.healthCmd] };
    const durations = [
      ["healthInterval", "intervalSeconds", f.healthInterval],
      ["healthTimeout", "timeoutSeconds", f.healthTimeout],
      ["healthStartPeriod", "startPeriodSeconds", f.healthStartPeriod],
    ] as const;
    for (const [, key, text] of durations) {
      if (!text.trim()) continue;
      const s = parseSeconds(text);
      if (s === null) issues[`healthcheck.${key}`] = "a duration such as 30s, 1m30s or 500ms";
      else hc[key] = s;
    }
    if (f.healthRetries.trim()) {
      const n = wholeNumber(f.healthRetries);
      if (n === null) issues["healthcheck.retries"] = "a whole number";
      else hc.retries = n;
    }
    spec.healthcheck = hc;
  }

  return { input: spec, issues, notes, index };
}

/** A spec path (from zod or a policy violation's `field`) → the form field that shows it. */
export function fieldFor(path: readonly PropertyKey[], index: RowIndex): string {
  const [head, second, third] = path.map((p) => (typeof p === "symbol" ? "" : p));
  switch (head) {
    case "env":
    case "ports":
    case "mounts":
    case "devices": {
      const key = index[head][Number(second)];
      if (second === undefined || key === undefined) return head;
      return third === undefined ? `${head}.${key}` : `${head}.${key}.${String(third)}`;
    }
    case "labels": {
      const key = second === undefined ? undefined : index.labels.get(String(second));
      return key ? `labels.${key}` : "labels";
    }
    case "restartPolicy":
      return "restartPolicy";
    case "healthcheck":
      return second === undefined ? "healthcheck.test" : `healthcheck.${String(second)}`;
    case "network":
      return "network";
    case "aliases":
    case "capAdd":
    case "capDrop":
      return head;
    default:
      return head === undefined || head === "" ? "form" : String(head);
  }
}

/** A policy violation's `field` ("mounts.0.source", "capAdd.2") as a path. */
export function pathOf(field: string): (string | number)[] {
  return field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

export interface CheckedForm {
  built: BuiltSpec;
  /** The validated spec when the form is complete and valid, else null. */
  spec: DeploySpec | null;
  /** Every problem, by form field id: the form's own first, then the schema's. */
  errors: Record<string, string>;
}

export function checkForm(f: DeployFormState): CheckedForm {
  const built = buildSpec(f);
  const errors: Record<string, string> = { ...built.issues };
  const parsed = deploySpecSchema.safeParse(built.input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldFor(issue.path, built.index);
      errors[field] ??= issue.message;
    }
  }
  if (!f.hostId) errors.hostId = "choose the host to deploy to";
  const ok = parsed.success && Object.keys(errors).length === 0;
  return { built, spec: ok ? parsed.data : null, errors };
}

function splitMemory(bytes: number | undefined): { memory: string; memoryUnit: MemoryUnit } {
  if (bytes === undefined) return { memory: "", memoryUnit: "m" };
  const text = formatByteSize(bytes);
  const m = /^(\d+)([kmg])$/.exec(text);
  if (m) return { memory: m[1]!, memoryUnit: m[2] as MemoryUnit };
  // Not a whole number of KiB: show it in KiB with decimals.
  return { memory: String(Math.round((bytes / 1024) * 1000) / 1000), memoryUnit: "k" };
}

/** Seconds as the form shows them: 30 → "30s", 90 → "1m30s", 0.5 → "500ms". */
export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return "";
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  const m = Math.floor(s / 60);
  const rest = Math.round((s - m * 60) * 1000) / 1000;
  return `${m ? `${m}m` : ""}${rest ? `${rest}s` : ""}` || "0s";
}

/** A spec (e.g. from a pasted `docker run`) as the form, on the given host. */
export function formFromSpec(spec: DeploySpecInput, hostId: string): DeployFormState {
  const f = emptyForm(hostId);
  f.image = spec.image;
  f.pullPolicy = spec.pullPolicy ?? "missing";
  f.registryId = spec.registryId ?? "";
  f.name = spec.name ?? "";
  f.command = spec.command ? joinShellWords(spec.command) : "";
  f.entrypoint = spec.entrypoint ? joinShellWords(spec.entrypoint) : "";
  f.workingDir = spec.workingDir ?? "";
  f.user = spec.user ?? "";
  f.hostname = spec.hostname ?? "";
  f.env = (spec.env ?? []).map((e) => ({ key: rowKey(), name: e.name, value: e.value, secret: e.secret ?? false }));
  f.ports = (spec.ports ?? []).map((p) => ({
    key: rowKey(),
    hostIp: p.hostIp ?? "",
    hostPort: p.hostPort === undefined ? "" : String(p.hostPort),
    containerPort: String(p.containerPort),
    protocol: p.protocol ?? "tcp",
  }));
  f.mounts = (spec.mounts ?? []).map((m) =>
    m.type === "tmpfs"
      ? { key: rowKey(), type: "tmpfs", source: "", target: m.target, readOnly: false, size: m.sizeBytes ? formatByteSize(m.sizeBytes) : "" }
      : { key: rowKey(), type: m.type, source: m.source ?? "", target: m.target, readOnly: m.readOnly ?? false, size: "" },
  );
  f.hostNetwork = spec.network === "host";
  f.network = spec.network && spec.network !== "host" ? spec.network : "";
  f.aliases = (spec.aliases ?? []).join(" ");
  f.restart = spec.restartPolicy?.name ?? "no";
  f.maxRetries = spec.restartPolicy?.maximumRetryCount === undefined ? "" : String(spec.restartPolicy.maximumRetryCount);
  Object.assign(f, splitMemory(spec.memoryBytes));
  f.cpus = spec.cpus === undefined ? "" : String(spec.cpus);
  f.pidsLimit = spec.pidsLimit === undefined ? "" : String(spec.pidsLimit);
  f.labels = Object.entries(spec.labels ?? {}).map(([name, value]) => ({ key: rowKey(), name, value }));
  f.privileged = spec.privileged ?? false;
  f.capAdd = (spec.capAdd ?? []).join(" ");
  f.capDrop = (spec.capDrop ?? []).join(" ");
  f.pidHost = spec.pidMode === "host";
  f.ipcHost = spec.ipcMode === "host";
  f.devices = (spec.devices ?? []).map((d) => ({ key: rowKey(), hostPath: d.hostPath, containerPath: d.containerPath ?? "", permissions: d.permissions ?? "rwm" }));
  f.readOnlyRootfs = spec.readOnlyRootfs ?? false;
  const hc = spec.healthcheck;
  if (hc) {
    const [kind, ...rest] = hc.test;
    if (kind === "NONE") f.healthMode = "none";
    else {
      f.healthMode = "command";
      f.healthCmd = kind === "CMD-SHELL" ? rest.join(" ") : joinShellWords(kind === "CMD" ? rest : hc.test);
      f.healthInterval = formatSeconds(hc.intervalSeconds);
      f.healthTimeout = formatSeconds(hc.timeoutSeconds);
      f.healthStartPeriod = formatSeconds(hc.startPeriodSeconds);
      f.healthRetries = hc.retries === undefined ? "" : String(hc.retries);
    }
  }
  return f;
}

/** Whether anything under the Advanced section is set (to open it after a paste). */
export function usesAdvanced(f: DeployFormState): boolean {
  return f.privileged || Boolean(f.capAdd || f.capDrop) || f.hostNetwork || f.pidHost || f.ipcHost || f.devices.length > 0 || f.readOnlyRootfs || f.healthMode !== "image";
}
