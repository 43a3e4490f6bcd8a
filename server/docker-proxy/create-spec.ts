import "server-only";
import { AppError } from "../errors";
import { CreateRequestError, parseCreateRequest, type CreateRequest, type HostConfig } from "../../lib/docker/create-request";
import { type MountSpec, parseApiMount, parseBind } from "../../lib/docker/mounts";
import { deploySpecSchema, type DeploySpec, type DeploySpecInput } from "../../lib/deploy/spec";
import { RULES, type RuleId } from "../../lib/policy/rules";
import type { PolicyViolation } from "../../lib/policy/check";

// The inverse of server/deploy/create-body.ts: a Docker `POST /containers/create`
// body (as the docker CLI sends it) → our DeploySpec, so the proxy judges it
// with the same checkDeploy as the console and the API.
//
// The body is read with the agent's own parser (agent/engine/create-request.ts)
// and its Binds/Mounts with the agent's own mount parsers, so the policy sees
// exactly what the agent will do. Host settings a DeploySpec can't carry but
// that give a container power over the host (seccomp/AppArmor unconfined, host
// UTS/user/cgroup namespaces, device cgroup rules, …) become violations of the
// matching rule; settings whose effect on the host can't be judged here
// (a cgroup parent, another runtime, volumes from another container, …) are
// refused outright. --volumes-from is judged by what it brings: the proxy
// looks the source containers up on the host (judge.ts) and their bind
// mounts are judged as binds of this one. The body forwarded to the agent is
// the one judged (VolumesFrom naming the very containers looked at, by ID).

/** A create body the proxy refuses as malformed or not allowed: answered 400. */
export class CreateBodyError extends AppError<"BAD_REQUEST"> {
  constructor(message: string) {
    super("BAD_REQUEST", message);
    this.name = "CreateBodyError";
  }
}

/** A --volumes-from entry: the container, and the mode that overrides its mounts' own ("" keeps them). */
export interface VolumesFromEntry {
  container: string;
  mode: "" | "ro" | "rw";
}

export interface TranslatedCreate {
  spec: DeploySpec;
  /** Containers whose mounts this one takes (HostConfig.VolumesFrom), judged once looked up on the host. */
  volumesFrom: VolumesFromEntry[];
  /** Violations for settings outside DeploySpec, judged here against the same rules. */
  extraViolations(policy: { allowPrivileged?: boolean; allowHostNamespaces?: boolean; allowDevices?: boolean }): PolicyViolation[];
  /** What the audit record shows: the settings that matter. */
  summary: Record<string, unknown>;
}

const CONFIG_KEYS = [
  "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts", "Tty", "OpenStdin", "StdinOnce",
  "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir", "Entrypoint", "NetworkDisabled", "MacAddress",
  "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell", "HostConfig", "NetworkingConfig",
];

/**
 * dockerd decodes JSON keys case-insensitively ("privileged" sets Privileged);
 * our agent does not. A key that differs from a known one only by case is
 * refused, so no reader of this body can see a setting the policy did not.
 */
function refuseCaseVariants(object: unknown, known: readonly string[], where: string): void {
  if (!object || typeof object !== "object" || Array.isArray(object)) return;
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  for (const key of Object.keys(object)) {
    const canonical = byLower.get(key.toLowerCase());
    if (canonical !== undefined && canonical !== key) {
      throw new CreateBodyError(`invalid ${where}${key}: field names are case-sensitive here; use ${canonical}`);
    }
  }
}

const HOST_CONFIG_KEYS = [
  "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove", "VolumeDriver", "VolumesFrom",
  "ConsoleSize", "Annotations", "CapAdd", "CapDrop", "CgroupnsMode", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd",
  "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt",
  "StorageOpt", "Tmpfs", "UTSMode", "UsernsMode", "ShmSize", "Sysctls", "Runtime", "Isolation", "CpuShares", "Memory", "NanoCpus",
  "CgroupParent", "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
  "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Devices",
  "DeviceCgroupRules", "DeviceRequests", "KernelMemory", "KernelMemoryTCP", "MemoryReservation", "MemorySwap", "MemorySwappiness",
  "OomKillDisable", "PidsLimit", "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth", "Mounts", "MaskedPaths",
  "ReadonlyPaths", "Init",
];

const nonEmpty = (v: unknown) =>
  v !== undefined && v !== null && v !== "" && v !== false && v !== 0 && !(Array.isArray(v) && v.length === 0) && !(typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** Settings refused through the proxy: their effect on the host can't be judged by the deploy policy. */
function refuseUnjudgeable(hc: HostConfig): void {
  const refused: string[] = [];
  if (nonEmpty(hc.CgroupParent)) refused.push("CgroupParent (--cgroup-parent)");
  if (nonEmpty(hc.Runtime) && hc.Runtime !== "runc") refused.push("Runtime (--runtime)");
  if (nonEmpty(hc.VolumeDriver) && hc.VolumeDriver !== "local") refused.push("VolumeDriver (--volume-driver)");
  if (hc.MaskedPaths !== undefined) refused.push("MaskedPaths");
  if (hc.ReadonlyPaths !== undefined) refused.push("ReadonlyPaths");
  if (nonEmpty(hc.Sysctls)) refused.push("Sysctls (--sysctl)");
  if (nonEmpty(hc.OomKillDisable)) refused.push("OomKillDisable (--oom-kill-disable)");
  if ((hc.OomScoreAdj ?? 0) < 0) refused.push("a negative OomScoreAdj (--oom-score-adj)");
  if (nonEmpty(hc.CpuRealtimeRuntime) || nonEmpty(hc.CpuRealtimePeriod)) refused.push("CpuRealtimeRuntime/CpuRealtimePeriod");
  if (nonEmpty(hc.StorageOpt)) refused.push("StorageOpt (--storage-opt)");
  for (const [field, mode] of [["PidMode", hc.PidMode], ["IpcMode", hc.IpcMode]] as const) {
    if (mode && mode.startsWith("container:")) refused.push(`${field} "${mode}" (sharing another container's namespace)`);
  }
  if (refused.length) throw new CreateBodyError(`not allowed through the Berth Docker-API proxy: ${refused.join("; ")}`);
}

function violation(rule: RuleId, field: string, what: string): PolicyViolation {
  const label = RULES[rule];
  return { rule, label, field, message: `${what} — rule "${label}"` };
}

/** "size=64m,mode=1777" → 67108864; undefined when there is no size (tmpfs sizes don't concern the policy). */
function tmpfsSize(options: string): number | undefined {
  const m = /(?:^|,)size=(\d+)([kmg]?)(?:,|$)/i.exec(options);
  if (!m) return undefined;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

type SpecMount = NonNullable<DeploySpecInput["mounts"]>[number];

/** A parser's refusal of a Binds or Mounts entry, as the 400 the proxy answers. */
function parsedOrRefused(parse: () => MountSpec): MountSpec {
  try {
    return parse();
  } catch (e) {
    throw new CreateBodyError(e instanceof Error ? e.message : String(e));
  }
}

/** A parsed Binds or Mounts entry as the deploy spec's mount (Binds give binds and volumes only). */
function specMountOf(m: MountSpec, tmpfsSizeBytes?: number): SpecMount {
  if (m.type === "bind") return { type: "bind", source: m.source, target: m.destination, readOnly: m.readOnly };
  if (m.type === "volume") return { type: "volume", ...(m.source ? { source: m.source } : {}), target: m.destination, readOnly: m.readOnly };
  return { type: "tmpfs", target: m.destination, ...(tmpfsSizeBytes ? { sizeBytes: tmpfsSizeBytes } : {}) };
}

function mountsOf(hc: HostConfig): DeploySpecInput["mounts"] {
  const out: SpecMount[] = [];
  for (const bind of hc.Binds ?? []) out.push(specMountOf(parsedOrRefused(() => parseBind(bind))));
  for (const api of hc.Mounts ?? []) out.push(specMountOf(parsedOrRefused(() => parseApiMount(api)), api.TmpfsOptions?.SizeBytes));
  for (const [target, options] of Object.entries(hc.Tmpfs ?? {})) {
    const size = tmpfsSize(options);
    out.push({ type: "tmpfs", target, ...(size ? { sizeBytes: size } : {}) });
  }
  return out;
}

function portsOf(hc: HostConfig): NonNullable<DeploySpecInput["ports"]> {
  const out: NonNullable<DeploySpecInput["ports"]> = [];
  for (const [key, bindings] of Object.entries(hc.PortBindings ?? {})) {
    const [port = "", proto = "tcp"] = key.split("/");
    const containerPort = Number(port);
    for (const b of bindings) {
      const hostPort = b.HostPort ? Number(b.HostPort.split("-")[0]) : undefined;
      out.push({
        containerPort,
        protocol: proto === "udp" ? "udp" : "tcp",
        ...(b.HostIp ? { hostIp: b.HostIp } : {}),
        ...(hostPort ? { hostPort } : {}),
      });
    }
  }
  return out;
}

/** CPUs from NanoCpus, or from a CFS quota over its period (default 100 ms), as moby maps --cpus. */
export function cpusOf(hc: Pick<HostConfig, "NanoCpus" | "CpuQuota" | "CpuPeriod">): number | undefined {
  if ((hc.NanoCpus ?? 0) > 0) return hc.NanoCpus! / 1e9;
  if ((hc.CpuQuota ?? 0) > 0) return hc.CpuQuota! / ((hc.CpuPeriod ?? 0) > 0 ? hc.CpuPeriod! : 100_000);
  return undefined;
}

const namespaceMode = (mode: string | undefined): "host" | undefined => (mode === "host" ? "host" : undefined);

function specInputOf(req: CreateRequest, name: string | null): DeploySpecInput {
  const hc: HostConfig = req.HostConfig ?? {};
  const network = hc.NetworkMode && hc.NetworkMode !== "default" ? hc.NetworkMode : undefined;
  const endpoint = network ? req.NetworkingConfig?.EndpointsConfig?.[network] : undefined;
  const restart = hc.RestartPolicy?.Name && hc.RestartPolicy.Name !== "no" ? hc.RestartPolicy : undefined;
  return {
    image: req.Image ?? "",
    pullPolicy: "never",
    ...(name ? { name: name.replace(/^\//, "") } : {}),
    ...(req.Cmd ? { command: req.Cmd } : {}),
    ...(req.Entrypoint ? { entrypoint: req.Entrypoint.length === 1 && req.Entrypoint[0] === "" ? [] : req.Entrypoint } : {}),
    ...(req.WorkingDir ? { workingDir: req.WorkingDir } : {}),
    ...(req.User ? { user: req.User } : {}),
    ...(req.Hostname ? { hostname: req.Hostname } : {}),
    env: (req.Env ?? []).map((e) => {
      const eq = e.indexOf("=");
      return eq === -1 ? { name: e, value: "" } : { name: e.slice(0, eq), value: e.slice(eq + 1) };
    }),
    ports: portsOf(hc),
    mounts: mountsOf(hc),
    ...(network ? { network } : {}),
    aliases: endpoint?.Aliases ?? [],
    ...(restart ? { restartPolicy: { name: restart.Name as "always", ...(restart.MaximumRetryCount ? { maximumRetryCount: restart.MaximumRetryCount } : {}) } } : {}),
    ...((hc.Memory ?? 0) > 0 ? { memoryBytes: hc.Memory } : {}),
    ...(cpusOf(hc) !== undefined ? { cpus: cpusOf(hc) } : {}),
    ...((hc.PidsLimit ?? 0) > 0 ? { pidsLimit: hc.PidsLimit } : {}),
    labels: req.Labels ?? {},
    privileged: hc.Privileged === true,
    capAdd: hc.CapAdd ?? [],
    capDrop: hc.CapDrop ?? [],
    ...(namespaceMode(hc.PidMode) ? { pidMode: "host" as const } : {}),
    ...(namespaceMode(hc.IpcMode) ? { ipcMode: "host" as const } : {}),
    devices: (hc.Devices ?? []).map((d) => ({
      hostPath: d.PathOnHost ?? "",
      ...(d.PathInContainer && d.PathInContainer !== d.PathOnHost ? { containerPath: d.PathInContainer } : {}),
      ...(d.CgroupPermissions ? { permissions: d.CgroupPermissions } : {}),
    })),
    readOnlyRootfs: hc.ReadonlyRootfs === true,
  };
}

/** HostConfig.VolumesFrom as dockerd reads it: "CONTAINER" or "CONTAINER:ro|rw". */
function volumesFromOf(hc: HostConfig): VolumesFromEntry[] {
  return (hc.VolumesFrom ?? []).map((entry) => {
    const m = /^([^:]+)(?::(ro|rw))?$/.exec(entry);
    if (!m) throw new CreateBodyError(`invalid VolumesFrom entry "${entry}": expected CONTAINER[:ro|rw]`);
    return { container: m[1]!, mode: (m[2] ?? "") as VolumesFromEntry["mode"] };
  });
}

/** Security options that take protection away: as much as privileged mode. */
const WEAKENING_SECURITY_OPT = /^(seccomp|apparmor|systempaths)[=:]unconfined$|^label[=:]disable$/i;

function extraViolationsOf(hc: HostConfig) {
  return (policy: { allowPrivileged?: boolean; allowHostNamespaces?: boolean; allowDevices?: boolean }): PolicyViolation[] => {
    const out: PolicyViolation[] = [];
    if (!policy.allowPrivileged) {
      (hc.SecurityOpt ?? []).forEach((opt, i) => {
        if (WEAKENING_SECURITY_OPT.test(opt.trim())) out.push(violation("allowPrivileged", `securityOpt.${i}`, `Security option "${opt}" is not allowed`));
      });
    }
    if (!policy.allowHostNamespaces) {
      for (const [field, mode, what] of [
        ["utsMode", hc.UTSMode, "UTS"],
        ["usernsMode", hc.UsernsMode, "user"],
        ["cgroupnsMode", hc.CgroupnsMode, "cgroup"],
      ] as const) {
        if (mode === "host") out.push(violation("allowHostNamespaces", field, `The host ${what} namespace is not allowed`));
      }
    }
    if (!policy.allowDevices) {
      (hc.DeviceCgroupRules ?? []).forEach((rule, i) => out.push(violation("allowDevices", `deviceCgroupRules.${i}`, `Device cgroup rule "${rule}" is not allowed`)));
      (hc.DeviceRequests ?? []).forEach((_, i) => out.push(violation("allowDevices", `deviceRequests.${i}`, "Device requests (--gpus) are not allowed")));
    }
    return out;
  };
}

function summaryOf(spec: DeploySpec, hc: HostConfig, req: CreateRequest): Record<string, unknown> {
  return {
    image: spec.image,
    name: spec.name ?? null,
    command: spec.command ?? null,
    ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
    privileged: spec.privileged,
    ...(spec.capAdd.length ? { capAdd: spec.capAdd } : {}),
    ...(spec.capDrop.length ? { capDrop: spec.capDrop } : {}),
    networkMode: hc.NetworkMode || "default",
    ...(spec.pidMode ? { pidMode: spec.pidMode } : {}),
    ...(spec.ipcMode ? { ipcMode: spec.ipcMode } : {}),
    ...(hc.UTSMode ? { utsMode: hc.UTSMode } : {}),
    ...(hc.SecurityOpt?.length ? { securityOpt: hc.SecurityOpt } : {}),
    ...(spec.mounts.length ? { mounts: spec.mounts.map((m) => (m.type === "tmpfs" ? `tmpfs:${m.target}` : `${m.type}:${m.source ?? ""}:${m.target}${m.readOnly ? ":ro" : ""}`)) } : {}),
    ...(spec.ports.length ? { ports: spec.ports.map((p) => `${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort ?? ""}:${p.containerPort}/${p.protocol}`) } : {}),
    ...(spec.devices.length ? { devices: spec.devices.map((d) => d.hostPath) } : {}),
    ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
    ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}),
    ...(spec.env.length ? { env: spec.env.map((e) => e.name) } : {}),
    ...(hc.VolumesFrom?.length ? { volumesFrom: hc.VolumesFrom } : {}),
    ...(hc.AutoRemove ? { autoRemove: true } : {}),
    ...(req.Tty ? { tty: true } : {}),
    ...(req.OpenStdin ? { openStdin: true } : {}),
  };
}

/**
 * A create body (already JSON-parsed) and the `name` query parameter → the
 * spec the policy judges. Throws CreateBodyError with a message for the
 * client when the body is malformed or asks for something refused outright.
 */
export function createBodyToSpec(body: unknown, name: string | null, options: { numCpus?: number } = {}): TranslatedCreate {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new CreateBodyError("invalid body: expected a JSON object");
  refuseCaseVariants(body, CONFIG_KEYS, "");
  refuseCaseVariants((body as { HostConfig?: unknown }).HostConfig, HOST_CONFIG_KEYS, "HostConfig.");
  let req: CreateRequest;
  try {
    req = parseCreateRequest(body, options);
  } catch (e) {
    if (e instanceof CreateRequestError || (e instanceof Error && e.name === "CreateRequestError")) throw new CreateBodyError(e.message);
    throw e;
  }
  if (!req.Image) throw new CreateBodyError("invalid body: Image is required");
  const hc: HostConfig = req.HostConfig ?? {};
  refuseUnjudgeable(hc);
  const parsed = deploySpecSchema.safeParse(specInputOf(req, name));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CreateBodyError(`invalid ${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  const spec = parsed.data;
  return { spec, volumesFrom: volumesFromOf(hc), extraViolations: extraViolationsOf(hc), summary: summaryOf(spec, hc, req) };
}
