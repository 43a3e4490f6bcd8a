import { type DeploySpec, type DeploySpecInput, deploySpecSchema, PULL_POLICIES } from "./spec";
import { quoteShellWord, ShellWordsError, splitShellWords } from "./shell-words";

// A pasted `docker run …` ⇄ a DeploySpec. parseDockerRun reads the flags the
// way the docker CLI (pflag) does: `--flag value`, `--flag=value`, `-fvalue`,
// `-f=value`, combined short booleans (`-dit`), flags up to the image, then
// the image's command verbatim. formatDockerRun writes the one canonical
// command for a spec, which parses back to the same spec. Runs in the browser
// too (the deploy form): no node: imports.

export class DockerRunParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerRunParseError";
  }
}

export interface ParsedDockerRun {
  spec: DeploySpecInput;
  /** Flags that were read but don't apply to a deployment, and values taken literally. */
  warnings: string[];
}

export interface FormatDockerRunOptions {
  /** Show secret env values as `NAME=••••••` (default true). */
  maskSecrets?: boolean;
}

type EnvInput = NonNullable<DeploySpecInput["env"]>[number];
type PortInput = NonNullable<DeploySpecInput["ports"]>[number];
type MountInput = NonNullable<DeploySpecInput["mounts"]>[number];
type DeviceInput = NonNullable<DeploySpecInput["devices"]>[number];

type ListKey = "env" | "ports" | "mounts" | "devices" | "aliases" | "capAdd" | "capDrop";
type ScalarKey = Exclude<keyof DeploySpecInput, ListKey | "labels" | "healthcheck">;

interface Draft {
  spec: Omit<DeploySpecInput, "image"> & { image?: string };
  warnings: string[];
  /** Spec path ("env.2", "memoryBytes") → the flag and value that set it, for schema errors. */
  origins: Map<string, string>;
  health: {
    cmd?: string;
    intervalSeconds?: number;
    timeoutSeconds?: number;
    startPeriodSeconds?: number;
    retries?: number;
    none: boolean;
    /** The --health-* flags given (for the --no-healthcheck conflict and missing --health-cmd). */
    flags: string[];
  };
  aliasFlag?: string;
}

const MASK = "••••••";
const USER_NETWORK_EXCLUDED = new Set(["bridge", "default", "host", "none"]);

const fail = (message: string): never => {
  throw new DockerRunParseError(message);
};

/** `-p 80-90`: the flag as typed and its value, for messages. */
const shown = (flag: string, value: string) => `${flag} ${quoteShellWord(value)}`;

function warn(d: Draft, message: string): void {
  if (!d.warnings.includes(message)) d.warnings.push(message);
}

function setScalar<K extends ScalarKey>(d: Draft, key: K, value: DeploySpecInput[K], origin: string): void {
  (d.spec as Record<string, unknown>)[key] = value;
  d.origins.set(key, origin);
}

function push<K extends ListKey>(d: Draft, key: K, item: NonNullable<DeploySpecInput[K]>[number], origin: string): void {
  const spec = d.spec as Record<string, unknown[] | undefined>;
  const list = (spec[key] ??= []);
  d.origins.set(`${key}.${list.length}`, origin);
  list.push(item);
}

// ---------------------------------------------------------------------------
// Values

/** Go's strconv.ParseBool, as pflag uses for `--flag=value` on a boolean. */
function parseBool(flag: string, raw: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
  return fail(`${flag}=${raw}: expected true or false`);
}

const UNIT_POWER: Record<string, number> = { "": 0, b: 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * Docker's units.RAMInBytes (--memory, --mount tmpfs-size): a number with an
 * optional binary unit b, k, m, g, t, p (any case, optional "i"/"b" suffix),
 * e.g. 512m, 1.5g, 64MiB, 1048576.
 */
export function parseByteSize(raw: string): number | null {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(raw);
  if (!m) return null;
  const unit = (m[2] ?? "").toLowerCase();
  return Math.trunc(Number(m[1]) * 1024 ** UNIT_POWER[unit]!);
}

/** Bytes as the shortest exact size: 536870912 → "512m", 1000 → "1000". */
export function formatByteSize(bytes: number): string {
  for (const [unit, power] of [["g", 3], ["m", 2], ["k", 1]] as const) {
    const size = 1024 ** power;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

const DURATION_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (non-negative): "30s", "1m30s", "500ms", "1.5h", "0". Nanoseconds, or null. */
export function parseGoDuration(raw: string): number | null {
  const text = raw.startsWith("+") ? raw.slice(1) : raw;
  if (text === "0") return 0;
  if (text === "") return null;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ns = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    const [whole = "0", frac = ""] = m[1]!.split(".");
    const unit = DURATION_UNITS_NS[m[2]!]!;
    ns += Number(whole) * unit + (frac ? Math.round(Number(`0.${frac}`) * unit) : 0);
    at = re.lastIndex;
  }
  return ns;
}

/** A decimal without exponent notation: 1.5 → "1.5", 1e-7 → "0.0000001". */
function formatDecimal(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(12).replace(/\.?0+$/, "");
}

/** Seconds as a Go duration: 30 → "30s", 90 → "1m30s", 0.5 → "500ms", 3600 → "1h". */
export function formatGoDuration(seconds: number): string {
  let ns = Math.round(seconds * 1e9);
  if (ns === 0) return "0s";
  const h = Math.floor(ns / 3600e9);
  ns -= h * 3600e9;
  const m = Math.floor(ns / 60e9);
  ns -= m * 60e9;
  let out = (h ? `${h}h` : "") + (m ? `${m}m` : "");
  if (ns) {
    // Under a second on its own: in ms, us or ns as Go prints it; else fractional seconds.
    if (out || ns >= 1e9) out += `${formatDecimal(ns / 1e9)}s`;
    else if (ns >= 1e6) out += `${formatDecimal(ns / 1e6)}ms`;
    else if (ns >= 1e3) out += `${formatDecimal(ns / 1e3)}us`;
    else out += `${ns}ns`;
  }
  return out;
}

function parsePortNumber(text: string, raw: string, flag: string, what: string): number {
  if (text.includes("-")) fail(`${shown(flag, raw)}: port ranges are not supported yet; publish each port with its own ${flag}`);
  if (!/^\d+$/.test(text)) fail(`${shown(flag, raw)}: ${what} ${quoteShellWord(text)} is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) fail(`${shown(flag, raw)}: ${what} must be between 1 and 65535`);
  return port;
}

function validIp(ip: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255);
  return ip.includes(":") && /^[0-9a-fA-F:.]+$/.test(ip) && ip.length <= 45;
}

/** `[ip:][hostPort:]containerPort[/proto]`, IPv6 addresses in brackets. */
function parsePort(raw: string, flag: string): PortInput {
  let rest = raw;
  let protocol: "tcp" | "udp" = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash !== -1) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto !== "tcp" && proto !== "udp") fail(`${shown(flag, raw)}: the protocol must be tcp or udp`);
    protocol = proto as "tcp" | "udp";
    rest = rest.slice(0, slash);
  }
  let hostIp = "";
  let parts: string[];
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close === -1 || rest[close + 1] !== ":") fail(`${shown(flag, raw)}: expected [ip]:hostPort:containerPort`);
    hostIp = rest.slice(1, close);
    parts = rest.slice(close + 2).split(":");
    if (parts.length !== 2) fail(`${shown(flag, raw)}: expected [ip]:hostPort:containerPort`);
  } else {
    parts = rest.split(":");
    if (parts.length > 3) fail(`${shown(flag, raw)}: put an IPv6 address in brackets, e.g. [::1]:8080:80`);
    if (parts.length === 3) hostIp = parts.shift()!;
  }
  const containerText = parts.pop()!;
  const hostText = parts.pop() ?? "";
  if (containerText === "") fail(`${shown(flag, raw)}: missing the container port`);
  if (hostIp && !validIp(hostIp)) fail(`${shown(flag, raw)}: ${quoteShellWord(hostIp)} is not an IP address`);
  const containerPort = parsePortNumber(containerText, raw, flag, "the container port");
  const hostPort = hostText === "" ? undefined : parsePortNumber(hostText, raw, flag, "the host port");
  return {
    ...(hostIp ? { hostIp } : {}),
    ...(hostPort !== undefined ? { hostPort } : {}),
    containerPort,
    protocol,
  };
}

function checkTarget(target: string, raw: string, flag: string): void {
  if (!target.startsWith("/")) fail(`${shown(flag, raw)}: the path in the container must be absolute`);
  if (/^\/+$/.test(target)) fail(`${shown(flag, raw)}: can't mount over /`);
}

function checkHostPath(source: string, raw: string, flag: string): void {
  if (/^(\.|~|\$)/.test(source) || source.includes("/")) {
    fail(`${shown(flag, raw)}: a host path must be absolute (Berth can't resolve ${quoteShellWord(source)} on the host)`);
  }
}

/** -v: `name:/path[:ro]`, `/host:/path[:ro|rw]`, or `/path[:ro]` (an anonymous volume). */
function parseVolume(raw: string, flag: string): MountInput {
  const parts = raw.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) {
    fail(`${shown(flag, raw)}: expected name:/path, /host/path:/path or /path, optionally followed by :ro`);
  }
  let source = "";
  let target: string;
  let mode = "";
  if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2 && parts[0]!.startsWith("/") && /^(ro|rw)(,(ro|rw))*$/.test(parts[1]!)) [target, mode] = parts as [string, string];
  else if (parts.length === 2) [source, target] = parts as [string, string];
  else [source, target, mode] = [parts[0]!, parts[1]!, parts[2]!];
  let readOnly = false;
  for (const option of mode ? mode.split(",") : []) {
    if (option === "ro") readOnly = true;
    else if (option === "rw") readOnly = false;
    else fail(`${shown(flag, raw)}: option ${quoteShellWord(option)} is not supported (ro or rw)`);
  }
  checkTarget(target, raw, flag);
  if (source.startsWith("/")) return { type: "bind", source, target, readOnly };
  if (source) checkHostPath(source, raw, flag);
  return source ? { type: "volume", source, target, readOnly } : { type: "volume", target, readOnly };
}

/** encoding/csv, as --mount is read: fields split on commas, "quoted" fields may hold commas and "" for a quote. */
function splitCsv(raw: string, flag: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (raw[i] === '"') {
      i++;
      for (;;) {
        if (i >= raw.length) fail(`${shown(flag, raw)}: unterminated quote`);
        if (raw[i] === '"') {
          if (raw[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += raw[i++];
      }
      if (i < raw.length && raw[i] !== ",") fail(`${shown(flag, raw)}: unexpected text after a quoted field`);
    } else {
      const comma = raw.indexOf(",", i);
      field = raw.slice(i, comma === -1 ? raw.length : comma);
      if (field.includes('"')) fail(`${shown(flag, raw)}: a quote must enclose the whole field`);
      i = comma === -1 ? raw.length : comma;
    }
    fields.push(field);
    if (i >= raw.length) return fields;
    i++; // the comma
  }
}

function csvField(field: string): string {
  return /[",]/.test(field) || field.startsWith(" ") ? `"${field.replace(/"/g, '""')}"` : field;
}

/** --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,tmpfs-size=…] */
function parseMount(raw: string, flag: string): MountInput {
  let type = "volume";
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let sizeBytes: number | undefined;
  let sizeGiven = false;
  for (const field of splitCsv(raw, flag)) {
    const eq = field.indexOf("=");
    const key = (eq === -1 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : field.slice(eq + 1);
    const need = (): string => value ?? fail(`${shown(flag, raw)}: ${key} needs a value (${key}=…)`);
    switch (key) {
      case "type":
        type = need();
        break;
      case "source":
      case "src":
        source = need();
        break;
      case "target":
      case "dst":
      case "destination":
        target = need();
        break;
      case "readonly":
      case "ro":
        readOnly = value === undefined ? true : parseBool(`${flag} ${key}`, value);
        break;
      case "tmpfs-size": {
        sizeGiven = true;
        const bytes = parseByteSize(need());
        if (bytes === null || bytes <= 0) fail(`${shown(flag, raw)}: tmpfs-size ${quoteShellWord(value!)} is not a size (e.g. 64m)`);
        sizeBytes = bytes!;
        break;
      }
      case "":
        fail(`${shown(flag, raw)}: empty option`);
        break;
      default:
        fail(`${shown(flag, raw)}: option ${quoteShellWord(key)} is not supported (type, source, target, readonly, tmpfs-size)`);
    }
  }
  if (type !== "bind" && type !== "volume" && type !== "tmpfs") {
    fail(`${shown(flag, raw)}: type ${quoteShellWord(type)} is not supported (bind, volume or tmpfs)`);
  }
  if (target === undefined || target === "") return fail(`${shown(flag, raw)}: target is required (target=/path/in/container)`);
  checkTarget(target, raw, flag);
  if (sizeGiven && type !== "tmpfs") fail(`${shown(flag, raw)}: tmpfs-size only applies to type=tmpfs`);
  if (type === "tmpfs") {
    if (source) fail(`${shown(flag, raw)}: a tmpfs mount has no source`);
    if (readOnly) fail(`${shown(flag, raw)}: read-only tmpfs mounts are not supported`);
    return sizeBytes === undefined ? { type, target } : { type, target, sizeBytes };
  }
  if (type === "bind") {
    if (!source) fail(`${shown(flag, raw)}: a bind mount needs source=/host/path`);
    if (!source!.startsWith("/")) fail(`${shown(flag, raw)}: a host path must be absolute`);
    return { type, source: source!, target, readOnly };
  }
  if (source?.startsWith("/")) fail(`${shown(flag, raw)}: ${source} is a host path; use type=bind`);
  return source ? { type: "volume", source, target, readOnly } : { type: "volume", target, readOnly };
}

/** Options a tmpfs gets anyway (the agent mounts every tmpfs nosuid,nodev,noexec, mode 1777). */
const TMPFS_DEFAULT_OPTIONS = new Set(["rw", "noexec", "nosuid", "nodev", "mode=1777"]);

/** --tmpfs /path[:size=64m[,…]] */
function parseTmpfs(raw: string, flag: string): MountInput {
  const colon = raw.indexOf(":");
  const target = colon === -1 ? raw : raw.slice(0, colon);
  checkTarget(target, raw, flag);
  let sizeBytes: number | undefined;
  for (const option of colon === -1 ? [] : raw.slice(colon + 1).split(",")) {
    if (option === "" || TMPFS_DEFAULT_OPTIONS.has(option)) continue;
    if (option.startsWith("size=")) {
      // The kernel's tmpfs size: a byte count with an optional k, m or g (binary).
      const m = /^(\d+)([kmg]?)$/i.exec(option.slice(5));
      if (!m || Number(m[1]) === 0) fail(`${shown(flag, raw)}: ${quoteShellWord(option)} is not a size (e.g. size=64m)`);
      sizeBytes = Number(m![1]) * 1024 ** UNIT_POWER[m![2]!.toLowerCase()]!;
      continue;
    }
    fail(`${shown(flag, raw)}: option ${quoteShellWord(option)} is not supported (size=…)`);
  }
  return sizeBytes === undefined ? { type: "tmpfs", target } : { type: "tmpfs", target, sizeBytes };
}

const validDeviceMode = (mode: string) => /^[rwm]{1,3}$/.test(mode) && new Set(mode).size === mode.length;

/** --device /dev/x[:/dev/y][:rwm] */
function parseDevice(raw: string, flag: string): DeviceInput {
  const parts = raw.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) fail(`${shown(flag, raw)}: expected /dev/host[:/dev/container][:rwm]`);
  const device: DeviceInput = { hostPath: parts[0]!, permissions: "rwm" };
  if (parts.length === 3) {
    device.containerPath = parts[1]!;
    if (!validDeviceMode(parts[2]!)) fail(`${shown(flag, raw)}: permissions must be a combination of r, w and m`);
    device.permissions = parts[2]!;
  } else if (parts.length === 2) {
    if (validDeviceMode(parts[1]!)) device.permissions = parts[1]!;
    else device.containerPath = parts[1]!;
  }
  for (const p of [device.hostPath, device.containerPath]) {
    if (p !== undefined && !p.startsWith("/")) fail(`${shown(flag, raw)}: device paths must be absolute`);
  }
  return device.containerPath === undefined
    ? { hostPath: device.hostPath, permissions: device.permissions }
    : { hostPath: device.hostPath, containerPath: device.containerPath, permissions: device.permissions };
}

function parseRestart(raw: string, flag: string): NonNullable<DeploySpecInput["restartPolicy"]> {
  const [name = "", count, ...extra] = raw.split(":");
  if (extra.length) fail(`${shown(flag, raw)}: expected no, always, unless-stopped or on-failure[:max-retries]`);
  if (name !== "no" && name !== "always" && name !== "unless-stopped" && name !== "on-failure") {
    return fail(`${shown(flag, raw)}: expected no, always, unless-stopped or on-failure[:max-retries]`);
  }
  if (count === undefined) return { name };
  if (name !== "on-failure") fail(`${shown(flag, raw)}: a maximum retry count only goes with on-failure`);
  if (!/^\d+$/.test(count)) fail(`${shown(flag, raw)}: the maximum retry count must be a whole number`);
  return { name, maximumRetryCount: Number(count) };
}

function parseDurationSeconds(raw: string, flag: string, allowZero: boolean): number | undefined {
  const ns = parseGoDuration(raw);
  if (ns === null) return fail(`${shown(flag, raw)}: not a duration (e.g. 30s, 1m30s, 500ms)`);
  if (ns === 0) return allowZero ? 0 : undefined; // Docker: 0 means "the image's or the default"
  if (ns < 1e6) fail(`${shown(flag, raw)}: must be at least 1ms`);
  return ns / 1e9;
}

// ---------------------------------------------------------------------------
// Flags

interface FlagDef {
  long: string[];
  short?: string;
  /** A boolean flag (no value unless `--flag=value`). */
  bool?: (d: Draft, on: boolean, flag: string) => void;
  value?: (d: Draft, value: string, flag: string) => void;
}

function healthFlag(d: Draft, flag: string): void {
  d.health.flags.push(flag);
}

const FLAGS: FlagDef[] = [
  { long: ["detach"], short: "d", bool: (d, on, flag) => on || warn(d, `${flag}=false ignored: a deployment always runs detached`) },
  { long: ["rm"], bool: (d, on, flag) => on && warn(d, `${flag} ignored: a deployment keeps its container so it can restart and be redeployed`) },
  { long: ["interactive"], short: "i", bool: (d, on, flag) => on && warn(d, `${flag} ignored: a deployment doesn't attach to stdin`) },
  { long: ["tty"], short: "t", bool: (d, on, flag) => on && warn(d, `${flag} ignored: a deployment has no terminal`) },
  { long: ["name"], value: (d, v, flag) => setScalar(d, "name", v, shown(flag, v)) },
  {
    long: ["env"],
    short: "e",
    value: (d, v, flag) => {
      const eq = v.indexOf("=");
      if (eq === -1) {
        warn(d, `${shown(flag, v)} skipped: it takes the value from your shell, which Berth can't see; use ${flag} ${v}=value`);
        return;
      }
      push(d, "env", { name: v.slice(0, eq), value: v.slice(eq + 1) } satisfies EnvInput, shown(flag, v));
    },
  },
  {
    long: ["env-file"],
    value: (_d, v, flag) => fail(`${shown(flag, v)}: env files are not supported; paste the variables as -e NAME=value`),
  },
  { long: ["publish"], short: "p", value: (d, v, flag) => push(d, "ports", parsePort(v, flag), shown(flag, v)) },
  {
    long: ["publish-all"],
    short: "P",
    bool: (d, on, flag) => on && warn(d, `${flag} ignored: publish each port with -p hostPort:containerPort`),
  },
  { long: ["volume"], short: "v", value: (d, v, flag) => push(d, "mounts", parseVolume(v, flag), shown(flag, v)) },
  { long: ["mount"], value: (d, v, flag) => push(d, "mounts", parseMount(v, flag), shown(flag, v)) },
  { long: ["tmpfs"], value: (d, v, flag) => push(d, "mounts", parseTmpfs(v, flag), shown(flag, v)) },
  {
    long: ["network", "net"],
    value: (d, v, flag) => {
      if (v.startsWith("container:")) fail(`${shown(flag, v)}: sharing another container's network is not supported`);
      setScalar(d, "network", v, shown(flag, v));
    },
  },
  {
    long: ["network-alias", "net-alias"],
    value: (d, v, flag) => {
      d.aliasFlag ??= shown(flag, v);
      push(d, "aliases", v, shown(flag, v));
    },
  },
  { long: ["restart"], value: (d, v, flag) => setScalar(d, "restartPolicy", parseRestart(v, flag), shown(flag, v)) },
  {
    long: ["memory"],
    short: "m",
    value: (d, v, flag) => {
      const bytes = parseByteSize(v);
      if (bytes === null) fail(`${shown(flag, v)}: not a size; use a number with b, k, m or g (e.g. 512m, 2g)`);
      if (bytes === 0) return; // Docker: 0 is no limit
      setScalar(d, "memoryBytes", bytes!, shown(flag, v));
    },
  },
  {
    long: ["cpus"],
    value: (d, v, flag) => {
      const m = /^(\d+)?(?:\.(\d*))?$/.exec(v);
      if (!m || v === "" || v === ".") return fail(`${shown(flag, v)}: not a number of CPUs (e.g. 0.5, 2)`);
      if (Number(v) === 0) fail(`${shown(flag, v)}: must be more than 0`);
      if ((m[2] ?? "").length > 9) fail(`${shown(flag, v)}: too precise (at most 9 decimals)`);
      setScalar(d, "cpus", Number(v), shown(flag, v));
    },
  },
  {
    long: ["pids-limit"],
    value: (d, v, flag) => {
      if (!/^-?\d+$/.test(v)) fail(`${shown(flag, v)}: not a whole number`);
      const n = Number(v);
      if (n <= 0) return; // Docker: 0 and -1 are unlimited
      setScalar(d, "pidsLimit", n, shown(flag, v));
    },
  },
  {
    long: ["label"],
    short: "l",
    value: (d, v, flag) => {
      const eq = v.indexOf("=");
      const key = eq === -1 ? v : v.slice(0, eq);
      const labels = (d.spec.labels ??= {});
      labels[key] = eq === -1 ? "" : v.slice(eq + 1);
      d.origins.set(`labels.${key}`, shown(flag, v));
    },
  },
  { long: ["hostname"], short: "h", value: (d, v, flag) => setScalar(d, "hostname", v, shown(flag, v)) },
  { long: ["user"], short: "u", value: (d, v, flag) => setScalar(d, "user", v, shown(flag, v)) },
  { long: ["workdir"], short: "w", value: (d, v, flag) => setScalar(d, "workingDir", v, shown(flag, v)) },
  {
    long: ["entrypoint"],
    value: (d, v, flag) => {
      if (/\s/.test(v.trim())) {
        warn(d, `${shown(flag, v)} is one program name, as in Docker; put its arguments after the image`);
      }
      setScalar(d, "entrypoint", v === "" ? [] : [v], shown(flag, v));
    },
  },
  { long: ["privileged"], bool: (d, on, flag) => setScalar(d, "privileged", on, flag) },
  { long: ["read-only"], bool: (d, on, flag) => setScalar(d, "readOnlyRootfs", on, flag) },
  { long: ["cap-add"], value: (d, v, flag) => push(d, "capAdd", v, shown(flag, v)) },
  { long: ["cap-drop"], value: (d, v, flag) => push(d, "capDrop", v, shown(flag, v)) },
  {
    long: ["pid"],
    value: (d, v, flag) => {
      if (v !== "host") fail(`${shown(flag, v)}: only --pid host is supported`);
      setScalar(d, "pidMode", "host", shown(flag, v));
    },
  },
  {
    long: ["ipc"],
    value: (d, v, flag) => {
      if (v !== "host") fail(`${shown(flag, v)}: only --ipc host is supported`);
      setScalar(d, "ipcMode", "host", shown(flag, v));
    },
  },
  { long: ["device"], value: (d, v, flag) => push(d, "devices", parseDevice(v, flag), shown(flag, v)) },
  {
    long: ["health-cmd"],
    value: (d, v, flag) => {
      if (v.trim() === "") fail(`${flag}: enter a command`);
      healthFlag(d, flag);
      d.health.cmd = v;
    },
  },
  {
    long: ["health-interval"],
    value: (d, v, flag) => {
      healthFlag(d, flag);
      d.health.intervalSeconds = parseDurationSeconds(v, flag, false);
      d.origins.set("healthcheck.intervalSeconds", shown(flag, v));
    },
  },
  {
    long: ["health-timeout"],
    value: (d, v, flag) => {
      healthFlag(d, flag);
      d.health.timeoutSeconds = parseDurationSeconds(v, flag, false);
      d.origins.set("healthcheck.timeoutSeconds", shown(flag, v));
    },
  },
  {
    long: ["health-start-period"],
    value: (d, v, flag) => {
      healthFlag(d, flag);
      d.health.startPeriodSeconds = parseDurationSeconds(v, flag, true);
      d.origins.set("healthcheck.startPeriodSeconds", shown(flag, v));
    },
  },
  {
    long: ["health-retries"],
    value: (d, v, flag) => {
      healthFlag(d, flag);
      if (!/^\d+$/.test(v)) fail(`${shown(flag, v)}: not a whole number`);
      d.health.retries = Number(v);
      d.origins.set("healthcheck.retries", shown(flag, v));
    },
  },
  {
    long: ["no-healthcheck"],
    bool: (d, on) => {
      d.health.none = on;
    },
  },
  {
    long: ["pull"],
    value: (d, v, flag) => {
      if (!(PULL_POLICIES as readonly string[]).includes(v)) fail(`${shown(flag, v)}: expected always, missing or never`);
      setScalar(d, "pullPolicy", v as (typeof PULL_POLICIES)[number], shown(flag, v));
    },
  },
];

/** docker run flags that exist but that a Berth deployment can't express (yet). */
const UNSUPPORTED_LONG = new Set([
  "add-host", "annotation", "attach", "blkio-weight", "blkio-weight-device", "cgroup-parent", "cgroupns", "cidfile",
  "cpu-count", "cpu-percent", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "cpu-shares",
  "cpuset-cpus", "cpuset-mems", "detach-keys", "device-cgroup-rule", "device-read-bps", "device-read-iops",
  "device-write-bps", "device-write-iops", "disable-content-trust", "dns", "dns-option", "dns-opt", "dns-search",
  "domainname", "expose", "gpus", "group-add", "health-start-interval", "init", "ip", "ip6", "isolation",
  "kernel-memory", "label-file", "link", "link-local-ip", "log-driver", "log-opt", "mac-address",
  "memory-reservation", "memory-swap", "memory-swappiness", "oom-kill-disable", "oom-score-adj", "platform",
  "quiet", "runtime", "security-opt", "shm-size", "sig-proxy", "stop-signal", "stop-timeout", "storage-opt",
  "sysctl", "ulimit", "use-api-socket", "userns", "uts", "volume-driver", "volumes-from",
]);
const UNSUPPORTED_SHORT = new Map([
  ["a", "attach"],
  ["c", "cpu-shares"],
  ["q", "quiet"],
]);

const BY_LONG = new Map(FLAGS.flatMap((f) => f.long.map((name) => [name, f] as const)));
const BY_SHORT = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f] as const));

function applyFlag(d: Draft, def: FlagDef, flag: string, inline: string | undefined, next: () => string | undefined): void {
  if (def.bool) {
    def.bool(d, inline === undefined ? true : parseBool(flag, inline), flag);
    return;
  }
  const value = inline ?? next();
  if (value === undefined) fail(`${flag} needs a value`);
  def.value!(d, value!, flag);
}

function unsupported(flag: string): never {
  return fail(`${flag} is not supported in a Berth deployment`);
}

// ---------------------------------------------------------------------------
// Parsing

function finishHealthcheck(d: Draft): void {
  const h = d.health;
  if (h.none) {
    if (h.flags.length) fail(`--no-healthcheck conflicts with ${h.flags[0]}`);
    d.spec.healthcheck = { test: ["NONE"] };
    d.origins.set("healthcheck", "--no-healthcheck");
    return;
  }
  if (h.cmd === undefined) {
    if (h.flags.length) fail(`${h.flags[0]} needs --health-cmd: Berth can't keep the image's own health check test`);
    return;
  }
  const hc: NonNullable<DeploySpecInput["healthcheck"]> = { test: ["CMD-SHELL", h.cmd] };
  if (h.intervalSeconds !== undefined) hc.intervalSeconds = h.intervalSeconds;
  if (h.timeoutSeconds !== undefined) hc.timeoutSeconds = h.timeoutSeconds;
  if (h.startPeriodSeconds !== undefined) hc.startPeriodSeconds = h.startPeriodSeconds;
  if (h.retries !== undefined) hc.retries = h.retries;
  d.spec.healthcheck = hc;
  d.origins.set("healthcheck", shown("--health-cmd", h.cmd));
}

function originOf(d: Draft, path: readonly PropertyKey[]): string {
  for (let n = path.length; n > 0; n--) {
    const origin = d.origins.get(path.slice(0, n).map(String).join("."));
    if (origin) return origin;
  }
  return path.map(String).join(".") || "command";
}

/**
 * Reads a pasted `docker run` (or `docker container run`, or just its flags
 * and image). Throws DockerRunParseError naming the flag or value at fault.
 */
export function parseDockerRun(command: string): ParsedDockerRun {
  let words;
  try {
    words = splitShellWords(command);
  } catch (e) {
    if (e instanceof ShellWordsError) throw new DockerRunParseError(e.message);
    throw e;
  }
  const d: Draft = { spec: {}, warnings: [], origins: new Map(), health: { none: false, flags: [] } };
  for (const w of words) {
    if (w.expands) warn(d, `${quoteShellWord(w.value)} is taken as typed: Berth doesn't expand $VARIABLES, $(…) or backticks`);
  }
  const args = words.map((w) => w.value);

  let i = 0;
  if (args[i] === "sudo") i++;
  if (args[i] === "docker") {
    i++;
    if (args[i] === "container") i++;
    if (args[i] !== "run") fail(`only docker run can be pasted, not docker ${args[i] ?? ""}`.trimEnd());
    i++;
  } else if (args[i] === "run" && args.length > i + 1) {
    i++;
  }

  const next = () => (i + 1 < args.length ? args[++i] : undefined);
  let image: string | undefined;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      i++;
      image = args[i];
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const flag = `--${name}`;
      const def = BY_LONG.get(name);
      if (!def) return UNSUPPORTED_LONG.has(name) ? unsupported(flag) : fail(`unknown flag ${flag}`);
      applyFlag(d, def, flag, eq === -1 ? undefined : arg.slice(eq + 1), next);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      // A cluster of short flags: booleans, then at most one that takes the rest (or the next word) as its value.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const flag = `-${c}`;
        const def = BY_SHORT.get(c);
        if (!def) return UNSUPPORTED_SHORT.has(c) ? unsupported(`${flag} (--${UNSUPPORTED_SHORT.get(c)})`) : fail(`unknown flag ${flag}`);
        const rest = arg.slice(j + 1);
        if (def.bool) {
          if (rest.startsWith("=")) {
            applyFlag(d, def, flag, rest.slice(1), next);
            break;
          }
          applyFlag(d, def, flag, undefined, next);
          continue;
        }
        applyFlag(d, def, flag, rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest, next);
        break;
      }
      continue;
    }
    image = arg;
    break;
  }
  if (image === undefined) return fail("missing image: put the image after the flags, e.g. docker run -d -p 8080:80 nginx:1.27");
  d.spec.image = image;
  d.origins.set("image", "image");
  const rest = args.slice(i + 1);
  if (rest.length) d.spec.command = rest;

  finishHealthcheck(d);
  if (d.spec.aliases?.length && (!d.spec.network || USER_NETWORK_EXCLUDED.has(d.spec.network))) {
    fail(`${d.aliasFlag}: network aliases need a user-defined --network`);
  }
  const targets = new Map<string, number>();
  (d.spec.mounts ?? []).forEach((m, index) => {
    const key = m.target.replace(/\/+$/, "");
    if (targets.has(key)) fail(`${d.origins.get(`mounts.${index}`)}: ${m.target} is already mounted`);
    targets.set(key, index);
  });

  const spec = d.spec as DeploySpecInput;
  const checked = deploySpecSchema.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    fail(`${originOf(d, issue.path)}: ${issue.message}`);
  }
  return { spec, warnings: d.warnings };
}

// ---------------------------------------------------------------------------
// Formatting

function mountArgs(m: DeploySpec["mounts"][number]): string[] {
  const fitsFlag = (...paths: (string | undefined)[]) => paths.every((p) => p === undefined || !p.includes(":"));
  if (m.type === "tmpfs") {
    if (fitsFlag(m.target)) return ["--tmpfs", m.sizeBytes ? `${m.target}:size=${formatByteSize(m.sizeBytes)}` : m.target];
    const fields = ["type=tmpfs", `target=${m.target}`, ...(m.sizeBytes ? [`tmpfs-size=${formatByteSize(m.sizeBytes)}`] : [])];
    return ["--mount", fields.map(csvField).join(",")];
  }
  if (fitsFlag(m.source, m.target)) {
    return ["-v", [m.source, m.target, m.readOnly ? "ro" : undefined].filter((p) => p !== undefined).join(":")];
  }
  const fields = [`type=${m.type}`, ...(m.source !== undefined ? [`source=${m.source}`] : []), `target=${m.target}`];
  if (m.readOnly) fields.push("readonly");
  return ["--mount", fields.map(csvField).join(",")];
}

function portArg(p: DeploySpec["ports"][number]): string {
  const container = `${p.containerPort}${p.protocol === "udp" ? "/udp" : ""}`;
  const host = p.hostPort === undefined ? "" : String(p.hostPort);
  if (p.hostIp) return `${p.hostIp.includes(":") ? `[${p.hostIp}]` : p.hostIp}:${host}:${container}`;
  return host ? `${host}:${container}` : container;
}

function deviceArg(dev: DeploySpec["devices"][number]): string {
  const permissions = dev.permissions ?? "rwm";
  return [dev.hostPath, dev.containerPath, permissions === "rwm" ? undefined : permissions]
    .filter((p) => p !== undefined)
    .join(":");
}

/**
 * The canonical `docker run -d …` for a spec: flags in a fixed order, values
 * quoted only where the shell needs it, secret env values masked unless
 * `maskSecrets: false`. Parses back (parseDockerRun) to the same spec, except
 * what a command line can't say: secret flags, registryId, a multi-word
 * entrypoint (its tail moves to the command, which runs the same argv), a
 * ["CMD", …] health test (becomes --health-cmd) and an empty command list.
 */
export function formatDockerRun(spec: DeploySpec, options: FormatDockerRunOptions = {}): string {
  const mask = options.maskSecrets ?? true;
  const out: string[] = ["docker", "run", "-d"];
  const add = (flag: string, value?: string) => {
    out.push(flag);
    if (value !== undefined) out.push(quoteShellWord(value));
  };

  if (spec.name) add("--name", spec.name);
  if (spec.pullPolicy && spec.pullPolicy !== "missing") add("--pull", spec.pullPolicy);
  const restart = spec.restartPolicy;
  if (restart && restart.name !== "no") {
    add("--restart", restart.name === "on-failure" && restart.maximumRetryCount !== undefined ? `on-failure:${restart.maximumRetryCount}` : restart.name);
  }
  for (const p of spec.ports ?? []) add("-p", portArg(p));
  for (const e of spec.env ?? []) {
    if (e.secret && mask) out.push("-e", `${quoteShellWord(`${e.name}=`)}${MASK}`);
    else add("-e", `${e.name}=${e.value}`);
  }
  for (const m of spec.mounts ?? []) {
    const [flag, value] = mountArgs(m);
    add(flag!, value);
  }
  if (spec.network) add("--network", spec.network);
  for (const a of spec.aliases ?? []) add("--network-alias", a);
  if (spec.hostname) add("--hostname", spec.hostname);
  if (spec.user) add("--user", spec.user);
  if (spec.workingDir) add("--workdir", spec.workingDir);
  for (const [k, v] of Object.entries(spec.labels ?? {})) add("--label", `${k}=${v}`);
  if (spec.memoryBytes !== undefined) add("--memory", formatByteSize(spec.memoryBytes));
  if (spec.cpus !== undefined) add("--cpus", formatDecimal(spec.cpus));
  if (spec.pidsLimit !== undefined) add("--pids-limit", String(spec.pidsLimit));
  if (spec.privileged) add("--privileged");
  for (const c of spec.capAdd ?? []) add("--cap-add", c);
  for (const c of spec.capDrop ?? []) add("--cap-drop", c);
  if (spec.pidMode) add("--pid", spec.pidMode);
  if (spec.ipcMode) add("--ipc", spec.ipcMode);
  for (const dev of spec.devices ?? []) add("--device", deviceArg(dev));
  if (spec.readOnlyRootfs) add("--read-only");
  const hc = spec.healthcheck;
  if (hc) {
    const [kind, ...rest] = hc.test;
    if (kind === "NONE") add("--no-healthcheck");
    else {
      add("--health-cmd", kind === "CMD-SHELL" ? rest.join(" ") : (kind === "CMD" ? rest : hc.test).map(quoteShellWord).join(" "));
      if (hc.intervalSeconds !== undefined) add("--health-interval", formatGoDuration(hc.intervalSeconds));
      if (hc.timeoutSeconds !== undefined) add("--health-timeout", formatGoDuration(hc.timeoutSeconds));
      if (hc.startPeriodSeconds !== undefined) add("--health-start-period", formatGoDuration(hc.startPeriodSeconds));
      if (hc.retries !== undefined) add("--health-retries", String(hc.retries));
    }
  }
  const [entry, ...entryRest] = spec.entrypoint ?? [];
  if (spec.entrypoint) add("--entrypoint", entry ?? "");
  out.push(quoteShellWord(spec.image));
  for (const arg of [...entryRest, ...(spec.command ?? [])]) out.push(quoteShellWord(arg));
  return out.join(" ");
}
