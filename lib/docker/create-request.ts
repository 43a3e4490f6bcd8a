import { z } from "zod";
import { InputError } from "../errors";
import { isKnownCapability } from "./capabilities";
import { LINUX_SIGNALS } from "./signals";

// The body of Docker Engine API `POST /containers/create` (v1.43), as the
// stock docker CLI 28 sends it: the container Config fields at the top level
// (moby's ContainerConfigWrapper embeds container.Config), plus HostConfig and
// NetworkingConfig. The CLI marshals Go structs, so most optional fields arrive
// as `null`; Go decodes null as "not set", and so do we: nulls in objects are
// dropped before validation. Unknown fields are stripped.
//
// parseCreateRequest also runs the checks dockerd makes before it looks at the
// image (daemon/container.go verifyContainerSettings and
// daemon/daemon_unix.go verifyPlatformContainerResources), with moby v28's
// messages, so the CLI prints what users know.

export class CreateRequestError extends InputError {
  readonly code = "INVALID";
  constructor(message: string) {
    super(message);
    this.name = "CreateRequestError";
  }
}

const int = z.number().int();
const str = z.string();
const strArr = z.array(z.string());
const strMap = z.record(z.string(), z.string());
/** Go's strslice.StrSlice (Cmd, Entrypoint, Shell) also accepts a single JSON string. */
const strSlice = z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(z.string()));
/** map[string]struct{}: the values carry nothing; `{}` (or null, which Go accepts) becomes `{}`. */
const keySet = z.record(z.string(), z.object({}).nullable().transform(() => ({})));

export const healthcheckSchema = z.object({
  Test: strArr.optional(),
  Interval: int.optional(),
  Timeout: int.optional(),
  StartPeriod: int.optional(),
  StartInterval: int.optional(),
  Retries: int.optional(),
});
export type HealthcheckConfig = z.infer<typeof healthcheckSchema>;

export const containerConfigSchema = z.object({
  Hostname: str.optional(),
  Domainname: str.optional(),
  User: str.optional(),
  AttachStdin: z.boolean().optional(),
  AttachStdout: z.boolean().optional(),
  AttachStderr: z.boolean().optional(),
  ExposedPorts: keySet.optional(),
  Tty: z.boolean().optional(),
  OpenStdin: z.boolean().optional(),
  StdinOnce: z.boolean().optional(),
  Env: strArr.optional(),
  Cmd: strSlice.optional(),
  Healthcheck: healthcheckSchema.optional(),
  ArgsEscaped: z.boolean().optional(),
  Image: str.optional(),
  Volumes: keySet.optional(),
  WorkingDir: str.optional(),
  Entrypoint: strSlice.optional(),
  NetworkDisabled: z.boolean().optional(),
  MacAddress: str.optional(),
  OnBuild: strArr.optional(),
  Labels: strMap.optional(),
  StopSignal: str.optional(),
  StopTimeout: int.optional(),
  Shell: strSlice.optional(),
});
export type ContainerConfig = z.infer<typeof containerConfigSchema>;

const portBinding = z.object({ HostIp: str.optional(), HostPort: str.optional() });
const throttleDevice = z.object({ Path: str.optional(), Rate: int.min(0).optional() });

export const mountSchema = z.object({
  Type: str.optional(),
  Source: str.optional(),
  Target: str.optional(),
  ReadOnly: z.boolean().optional(),
  Consistency: str.optional(),
  BindOptions: z
    .object({
      Propagation: str.optional(),
      NonRecursive: z.boolean().optional(),
      CreateMountpoint: z.boolean().optional(),
      ReadOnlyNonRecursive: z.boolean().optional(),
      ReadOnlyForceRecursive: z.boolean().optional(),
    })
    .optional(),
  VolumeOptions: z
    .object({
      NoCopy: z.boolean().optional(),
      Labels: strMap.optional(),
      Subpath: str.optional(),
      DriverConfig: z.object({ Name: str.optional(), Options: strMap.optional() }).optional(),
    })
    .optional(),
  TmpfsOptions: z
    .object({ SizeBytes: int.optional(), Mode: int.optional(), Options: z.array(strArr).optional() })
    .optional(),
  ImageOptions: z.object({ Subpath: str.optional() }).optional(),
});
export type MountSpec = z.infer<typeof mountSchema>;

export const hostConfigSchema = z.object({
  Binds: strArr.optional(),
  ContainerIDFile: str.optional(),
  LogConfig: z.object({ Type: str.optional(), Config: strMap.optional() }).optional(),
  NetworkMode: str.optional(),
  PortBindings: z.record(z.string(), z.array(portBinding)).optional(),
  RestartPolicy: z.object({ Name: str.optional(), MaximumRetryCount: int.optional() }).optional(),
  AutoRemove: z.boolean().optional(),
  VolumeDriver: str.optional(),
  VolumesFrom: strArr.optional(),
  ConsoleSize: z.tuple([int.min(0), int.min(0)]).optional(),
  Annotations: strMap.optional(),
  CapAdd: strArr.optional(),
  CapDrop: strArr.optional(),
  CgroupnsMode: str.optional(),
  Dns: strArr.optional(),
  DnsOptions: strArr.optional(),
  DnsSearch: strArr.optional(),
  ExtraHosts: strArr.optional(),
  GroupAdd: strArr.optional(),
  IpcMode: str.optional(),
  Cgroup: str.optional(),
  Links: strArr.optional(),
  OomScoreAdj: int.optional(),
  PidMode: str.optional(),
  Privileged: z.boolean().optional(),
  PublishAllPorts: z.boolean().optional(),
  ReadonlyRootfs: z.boolean().optional(),
  SecurityOpt: strArr.optional(),
  StorageOpt: strMap.optional(),
  Tmpfs: strMap.optional(),
  UTSMode: str.optional(),
  UsernsMode: str.optional(),
  ShmSize: int.optional(),
  Sysctls: strMap.optional(),
  Runtime: str.optional(),
  Isolation: str.optional(),
  // Resources (embedded in Go's HostConfig)
  CpuShares: int.optional(),
  Memory: int.optional(),
  NanoCpus: int.optional(),
  CgroupParent: str.optional(),
  BlkioWeight: int.min(0).max(65535).optional(),
  BlkioWeightDevice: z.array(z.object({ Path: str.optional(), Weight: int.min(0).max(65535).optional() })).optional(),
  BlkioDeviceReadBps: z.array(throttleDevice).optional(),
  BlkioDeviceWriteBps: z.array(throttleDevice).optional(),
  BlkioDeviceReadIOps: z.array(throttleDevice).optional(),
  BlkioDeviceWriteIOps: z.array(throttleDevice).optional(),
  CpuPeriod: int.optional(),
  CpuQuota: int.optional(),
  CpuRealtimePeriod: int.optional(),
  CpuRealtimeRuntime: int.optional(),
  CpusetCpus: str.optional(),
  CpusetMems: str.optional(),
  Devices: z
    .array(z.object({ PathOnHost: str.optional(), PathInContainer: str.optional(), CgroupPermissions: str.optional() }))
    .optional(),
  DeviceCgroupRules: strArr.optional(),
  DeviceRequests: z
    .array(
      z.object({
        Driver: str.optional(),
        Count: int.optional(),
        DeviceIDs: strArr.optional(),
        Capabilities: z.array(strArr).optional(),
        Options: strMap.optional(),
      }),
    )
    .optional(),
  KernelMemory: int.optional(),
  KernelMemoryTCP: int.optional(),
  MemoryReservation: int.optional(),
  MemorySwap: int.optional(),
  MemorySwappiness: int.optional(),
  OomKillDisable: z.boolean().optional(),
  PidsLimit: int.optional(),
  Ulimits: z.array(z.object({ Name: str, Soft: int, Hard: int })).optional(),
  CpuCount: int.optional(),
  CpuPercent: int.optional(),
  IOMaximumIOps: int.optional(),
  IOMaximumBandwidth: int.optional(),
  Mounts: z.array(mountSchema).optional(),
  MaskedPaths: strArr.optional(),
  ReadonlyPaths: strArr.optional(),
  Init: z.boolean().optional(),
});
export type HostConfig = z.infer<typeof hostConfigSchema>;

export const endpointSettingsSchema = z.object({
  IPAMConfig: z
    .object({ IPv4Address: str.optional(), IPv6Address: str.optional(), LinkLocalIPs: strArr.optional() })
    .optional(),
  Links: strArr.optional(),
  Aliases: strArr.optional(),
  DriverOpts: strMap.optional(),
  GwPriority: int.optional(),
  MacAddress: str.optional(),
  NetworkID: str.optional(),
  EndpointID: str.optional(),
  Gateway: str.optional(),
  IPAddress: str.optional(),
  IPPrefixLen: int.optional(),
  IPv6Gateway: str.optional(),
  GlobalIPv6Address: str.optional(),
  GlobalIPv6PrefixLen: int.optional(),
  DNSNames: strArr.optional(),
});
export type EndpointSettings = z.infer<typeof endpointSettingsSchema>;

export const networkingConfigSchema = z.object({
  EndpointsConfig: z.record(z.string(), endpointSettingsSchema).optional(),
});
export type NetworkingConfig = z.infer<typeof networkingConfigSchema>;

const createRequestObject = containerConfigSchema.extend({
  HostConfig: hostConfigSchema.optional(),
  NetworkingConfig: networkingConfigSchema.optional(),
});

/** Keys whose object values are maps where a null value still means "present". */
const KEEP_NULL_VALUES = new Set(["ExposedPorts", "Volumes"]);

/** Drops null-valued object properties (Go: null leaves a field unset), recursively. */
function stripNulls(value: unknown, keepNullValues = false): unknown {
  if (Array.isArray(value)) return value.map((v) => stripNulls(v));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null && !keepNullValues) continue;
    out[k] = stripNulls(v, KEEP_NULL_VALUES.has(k));
  }
  return out;
}

/** The create body; accepts null for every optional field and strips unknown fields. */
export const createRequestSchema = z.preprocess((v) => stripNulls(v), createRequestObject);
export type CreateRequest = z.infer<typeof createRequestSchema>;

// ---------------------------------------------------------------------------
// Error formatting

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else {
      const key = String(p);
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out || "body";
}

const TYPE_NAMES: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "a boolean",
  array: "an array",
  object: "an object",
  record: "an object",
  tuple: "an array",
};

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small":
      return issue.origin === "array"
        ? `expected at least ${issue.minimum} items`
        : `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `expected at most ${issue.maximum} items`
        : `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

// ---------------------------------------------------------------------------
// Parsing and dockerd's checks

export interface ParseCreateRequestOptions {
  /** Host CPU count for the NanoCpus range check (dockerd uses runtime.NumCPU()); skipped when absent. */
  numCpus?: number;
  /** The checks of `docker update` (dockerd's verifyContainerSettings with update=true): a swap limit alone is fine. */
  update?: boolean;
}

/**
 * Validates a create body and returns it typed, nulls dropped, unknown fields
 * stripped, and `HostConfig.RestartPolicy.Name` "" normalised to "no" as
 * dockerd does. Throws CreateRequestError with dockerd's message (or
 * `invalid <field>: <reason>` for a malformed field).
 */
export function parseCreateRequest(body: unknown, options: ParseCreateRequestOptions = {}): CreateRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new CreateRequestError("invalid body: expected a JSON object");
  }
  const endpoints = (body as { NetworkingConfig?: { EndpointsConfig?: unknown } }).NetworkingConfig?.EndpointsConfig;
  if (endpoints && typeof endpoints === "object") {
    for (const [name, settings] of Object.entries(endpoints)) {
      if (settings === null) throw new CreateRequestError(`invalid config for network ${name}: EndpointsConfig is nil`);
    }
  }
  const result = createRequestSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new CreateRequestError(`invalid ${formatPath(issue.path)}: ${describeIssue(issue)}`);
  }
  const req = result.data;
  if (req.HostConfig) {
    const rp = req.HostConfig.RestartPolicy ?? {};
    req.HostConfig.RestartPolicy = { ...rp, Name: rp.Name || "no" };
  }
  verifyConfig(req);
  if (req.HostConfig) verifyHostConfig(req.HostConfig, options);
  return req;
}

const fail = (message: string): never => {
  throw new CreateRequestError(message);
};

/**
 * moby's signal.ParseSignal: a positive number, or a name with or without
 * "SIG" (any case), including RTMIN+n / RTMAX-n. Returns the signal number;
 * throws CreateRequestError.
 */
export function parseSignal(raw: string): number {
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    if (n <= 0) fail(`Invalid signal: ${raw}`);
    return n;
  }
  const name = raw.toUpperCase().replace(/^SIG/, "");
  const direct = LINUX_SIGNALS[name];
  if (direct !== undefined) return direct;
  // Linux real-time signals as moby's SignalMap names them: RTMIN..RTMIN+15, RTMAX-14..RTMAX.
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const off = rt[3] === undefined ? 0 : Number(rt[3]);
    if (rt[1] === "MIN" && rt[2] !== "-" && off <= 15) return 34 + off;
    if (rt[1] === "MAX" && rt[2] !== "+" && off <= 14) return 64 - off;
  }
  return fail(`Invalid signal: ${raw}`);
}

const MINIMUM_DURATION_NS = 1_000_000; // container.MinimumDuration, printed by Go as "1ms"

function verifyConfig(config: ContainerConfig): void {
  if (config.WorkingDir && !config.WorkingDir.startsWith("/")) {
    fail(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  for (const env of config.Env ?? []) {
    if (env.split("=", 1)[0] === "") fail(`invalid environment variable: ${env}`);
  }
  if (config.StopSignal) parseSignal(config.StopSignal);
  const hc = config.Healthcheck;
  if (hc) {
    const tooShort = (field: "Interval" | "Timeout" | "StartPeriod" | "StartInterval") => {
      const v = hc[field] ?? 0;
      if (v !== 0 && v < MINIMUM_DURATION_NS) fail(`${field} in Healthcheck cannot be less than 1ms`);
    };
    tooShort("Interval");
    tooShort("Timeout");
    if ((hc.Retries ?? 0) < 0) fail("Retries in Healthcheck cannot be negative");
    tooShort("StartPeriod");
    tooShort("StartInterval");
  }
  for (const port of Object.keys(config.ExposedPorts ?? {})) {
    if (!isValidPortKey(port, true)) fail(`invalid port specification: ${JSON.stringify(port)}`);
  }
}

export const RESTART_POLICIES = ["no", "always", "on-failure", "unless-stopped"] as const;

function verifyRestartPolicy(name: string, maxRetry: number): void {
  switch (name) {
    case "always":
    case "unless-stopped":
    case "no":
      if (maxRetry !== 0) {
        fail(
          "invalid restart policy: maximum retry count can only be used with 'on-failure'" +
            (maxRetry < 0 ? " and cannot be negative" : ""),
        );
      }
      return;
    case "on-failure":
      if (maxRetry < 0) fail("invalid restart policy: maximum retry count cannot be negative");
      return;
    case "":
      return;
    default:
      fail(
        `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
      );
  }
}

const LINUX_MIN_MEMORY = 6 * 1024 * 1024;
const CPUSET_RE = /^(\d+(-\d+)?)(,\d+(-\d+)?)*$/;
const ULIMIT_NAMES = new Set([
  "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
  "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
]);
const MOUNT_TYPES = new Set(["bind", "volume", "tmpfs"]);

function verifyHostConfig(hc: HostConfig, options: ParseCreateRequestOptions): void {
  const rp = hc.RestartPolicy ?? {};
  const policyName = rp.Name ?? "";
  verifyRestartPolicy(policyName, rp.MaximumRetryCount ?? 0);
  if (hc.AutoRemove && policyName !== "no" && policyName !== "") {
    fail("can't create 'AutoRemove' container with restart policy");
  }

  for (const [port, bindings] of Object.entries(hc.PortBindings ?? {})) {
    if (!isValidPortKey(port, false)) fail(`invalid port specification: ${JSON.stringify(port.split("/")[0])}`);
    for (const b of bindings) {
      const hostPort = b.HostPort ?? "";
      if (hostPort !== "" && !isValidPortRange(hostPort.split("/")[0]!)) {
        fail(`invalid port specification: ${JSON.stringify(hostPort)}`);
      }
    }
  }

  // Resources (verifyPlatformContainerResources)
  const memory = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  if (memory !== 0 && memory < LINUX_MIN_MEMORY) fail("Minimum memory limit allowed is 6MB");
  if (swap < -1) fail("invalid HostConfig.MemorySwap: must be -1 (unlimited) or >= 0");
  if (memory > 0 && swap > 0 && swap < memory) {
    fail("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (memory === 0 && swap > 0 && !options.update) fail("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== -1) {
    if (hc.MemorySwappiness < 0 || hc.MemorySwappiness > 100) {
      fail(`Invalid value: ${hc.MemorySwappiness}, valid memory swappiness range is 0-100`);
    }
  }
  if (reservation < 0) fail("invalid HostConfig.MemoryReservation: must be >= 0");
  if (reservation > 0 && reservation < LINUX_MIN_MEMORY) fail("Minimum memory reservation allowed is 6MB");
  if (memory > 0 && reservation > 0 && memory < reservation) {
    fail("Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  const nano = hc.NanoCpus ?? 0;
  const period = hc.CpuPeriod ?? 0;
  const quota = hc.CpuQuota ?? 0;
  if (nano > 0 && period > 0) fail("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && quota > 0) fail("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano !== 0) {
    const nc = options.numCpus;
    if (nano < 0 || (nc !== undefined && nano > nc * 1e9)) {
      fail(
        nc === undefined
          ? "invalid HostConfig.NanoCpus: must be >= 0"
          : `range of CPUs is from 0.01 to ${nc}.00, as there are only ${nc} CPUs available`,
      );
    }
  }
  if ((hc.CpuShares ?? 0) < 0) fail("invalid HostConfig.CpuShares: must be >= 0");
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    fail("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (quota > 0 && quota < 1000) fail("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (hc.CpusetCpus && !CPUSET_RE.test(hc.CpusetCpus)) fail(`Invalid value ${hc.CpusetCpus} for cpuset cpus`);
  if (hc.CpusetMems && !CPUSET_RE.test(hc.CpusetMems)) fail(`Invalid value ${hc.CpusetMems} for cpuset mems`);
  const blkio = hc.BlkioWeight ?? 0;
  if (blkio > 0 && (blkio < 10 || blkio > 1000)) fail("Range of blkio weight is from 10 to 1000");
  if ((hc.IOMaximumBandwidth ?? 0) !== 0 || (hc.IOMaximumIOps ?? 0) !== 0) {
    fail("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps");
  }

  // verifyPlatformContainerSettings
  if ((hc.ShmSize ?? 0) < 0) fail("SHM size can not be less than 0");
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) fail(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  for (const key of Object.keys(hc.Annotations ?? {})) {
    if (key === "") fail("invalid Annotations: the empty string is not permitted as an annotation key");
  }
  for (const [field, list] of [["CapAdd", hc.CapAdd], ["CapDrop", hc.CapDrop]] as const) {
    for (const cap of list ?? []) {
      if (!isKnownCapability(cap)) fail(`invalid ${field}: unknown capability: ${JSON.stringify(cap)}`);
    }
  }
  for (const ul of hc.Ulimits ?? []) {
    if (!ULIMIT_NAMES.has(ul.Name)) fail(`invalid ulimit type: ${ul.Name}`);
    if (ul.Soft > ul.Hard) fail(`ulimit soft limit must be less than or equal to hard limit: ${ul.Soft} > ${ul.Hard}`);
  }
  for (const dest of Object.keys(hc.Tmpfs ?? {})) {
    if (!dest.startsWith("/")) fail(`invalid mount path: '${dest}' mount path must be absolute`);
    if (dest.replace(/\/+$/, "") === "") fail("invalid specification: destination can't be '/'");
  }
  for (const m of hc.Mounts ?? []) verifyMount(m);
}

function verifyMount(m: MountSpec): void {
  const type = m.Type ?? "";
  const bad = (msg: string) => fail(`invalid mount config for type ${JSON.stringify(type)}: ${msg}`);
  if (!MOUNT_TYPES.has(type)) bad("mount type unknown");
  if (!m.Target) bad("field Target must not be empty");
  if (!m.Target!.startsWith("/")) bad(`invalid mount path: '${m.Target}' mount path must be absolute`);
  switch (type) {
    case "bind":
      if (!m.Source) bad("field Source must not be empty");
      if (!m.Source!.startsWith("/")) bad(`invalid mount path: '${m.Source}' mount path must be absolute`);
      if (m.VolumeOptions) bad("field VolumeOptions must not be specified");
      if (m.TmpfsOptions) bad("field TmpfsOptions must not be specified");
      break;
    case "volume":
      if (m.BindOptions) bad("field BindOptions must not be specified");
      if (m.TmpfsOptions) bad("field TmpfsOptions must not be specified");
      break;
    case "tmpfs":
      if (m.Source) bad("field Source must not be specified");
      if (m.BindOptions) bad("field BindOptions must not be specified");
      if (m.VolumeOptions) bad("field VolumeOptions must not be specified");
      if ((m.TmpfsOptions?.SizeBytes ?? 0) < 0) bad(`invalid tmpfs size ${m.TmpfsOptions!.SizeBytes}`);
      break;
  }
}

function isValidPortRange(spec: string): boolean {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec);
  if (!m) return false;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  return start <= 65535 && end <= 65535 && start <= end;
}

/** "80", "80/tcp", "53/udp"; ranges only where dockerd accepts them (ExposedPorts). */
function isValidPortKey(key: string, allowRange: boolean): boolean {
  const [port = "", proto, ...rest] = key.split("/");
  if (rest.length > 0 || proto === "") return false;
  if (!allowRange && port.includes("-")) return false;
  return isValidPortRange(port);
}

// ---------------------------------------------------------------------------
// Container names (daemon/names.go)

const VALID_CONTAINER_NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]";
const VALID_CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Checks a container name the way dockerd does and returns it with its
 * leading "/" (the form stored and shown in Names). Throws CreateRequestError.
 */
export function validateContainerName(name: string): string {
  const bare = name.startsWith("/") ? name.slice(1) : name;
  // dockerd tests the pattern (which allows one leading "/") after trimming a
  // "/", so it lets "//name" through; we don't: such a name can't be looked up.
  if (bare.startsWith("/") || !VALID_CONTAINER_NAME.test(bare)) {
    throw new CreateRequestError(`Invalid container name (${name}), only ${VALID_CONTAINER_NAME_CHARS} are allowed`);
  }
  return name.startsWith("/") ? name : `/${name}`;
}
