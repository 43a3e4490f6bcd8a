import type { DeploySpecInput } from "../spec";
import { quoteShellWord } from "../shell-words";
import { type DeviceInput, fail, type MountInput, type PortInput, shown } from "./draft";
import { parseByteSize, parseGoDuration, UNIT_POWER } from "./units";

// The values of docker run's flags, read the way the docker CLI reads them:
// ports, -v and --mount, --tmpfs, --device, --restart, durations and booleans.
// Each throws DockerRunParseError naming the flag and value at fault.

/** Go's strconv.ParseBool, as pflag uses for `--flag=value` on a boolean. */
export function parseBool(flag: string, raw: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
  return fail(`${flag}=${raw}: expected true or false`);
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
export function parsePort(raw: string, flag: string): PortInput {
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
export function parseVolume(raw: string, flag: string): MountInput {
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

/** --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,tmpfs-size=…] */
export function parseMount(raw: string, flag: string): MountInput {
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
export function parseTmpfs(raw: string, flag: string): MountInput {
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
export function parseDevice(raw: string, flag: string): DeviceInput {
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

export function parseRestart(raw: string, flag: string): NonNullable<DeploySpecInput["restartPolicy"]> {
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

export function parseDurationSeconds(raw: string, flag: string, allowZero: boolean): number | undefined {
  const ns = parseGoDuration(raw);
  if (ns === null) return fail(`${shown(flag, raw)}: not a duration (e.g. 30s, 1m30s, 500ms)`);
  if (ns === 0) return allowZero ? 0 : undefined; // Docker: 0 means "the image's or the default"
  if (ns < 1e6) fail(`${shown(flag, raw)}: must be at least 1ms`);
  return ns / 1e9;
}
