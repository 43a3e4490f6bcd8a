import type { DeploySpec } from "../spec";
import { quoteShellWord } from "../shell-words";
import { formatByteSize, formatDecimal, formatGoDuration } from "./units";

// A DeploySpec → the one canonical `docker run` for it, which parseDockerRun
// (./parse) reads back to the same spec.

export interface FormatDockerRunOptions {
  /** Show secret env values as `NAME=••••••` (default true). */
  maskSecrets?: boolean;
}

const MASK = "••••••";

/** One --mount field, quoted as encoding/csv reads it (the way back of splitCsv in ./values). */
function csvField(field: string): string {
  return /[",]/.test(field) || field.startsWith(" ") ? `"${field.replace(/"/g, '""')}"` : field;
}


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
