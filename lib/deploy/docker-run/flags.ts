import { PULL_POLICIES } from "../spec";
import { type Draft, type EnvInput, fail, push, setScalar, shown, warn } from "./draft";
import { parseBool, parseDevice, parseDurationSeconds, parseMount, parsePort, parseRestart, parseTmpfs, parseVolume } from "./values";
import { parseByteSize } from "./units";

// The docker run flags a deployment understands, each with what it does to the
// draft; the ones that exist but a deployment can't express; and how one flag
// (with its inline or following value) is applied.

export interface FlagDef {
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
export const UNSUPPORTED_LONG = new Set([
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
export const UNSUPPORTED_SHORT = new Map([
  ["a", "attach"],
  ["c", "cpu-shares"],
  ["q", "quiet"],
]);

export const BY_LONG = new Map(FLAGS.flatMap((f) => f.long.map((name) => [name, f] as const)));
export const BY_SHORT = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f] as const));

export function applyFlag(d: Draft, def: FlagDef, flag: string, inline: string | undefined, next: () => string | undefined): void {
  if (def.bool) {
    def.bool(d, inline === undefined ? true : parseBool(flag, inline), flag);
    return;
  }
  const value = inline ?? next();
  if (value === undefined) fail(`${flag} needs a value`);
  def.value!(d, value!, flag);
}

export function unsupported(flag: string): never {
  return fail(`${flag} is not supported in a Berth deployment`);
}
