import { z } from "zod";
import { normaliseCapability } from "../docker/capabilities";

// The deploy policy: what a deployment may ask of a host. Pure data and
// normalisers, no node: imports — the deploy form runs this in the browser to
// show violations inline, and the server runs the same code to enforce them.
//
// Every default is the SAFE one: nothing that reaches the host (privileges,
// capabilities, host namespaces, bind mounts, devices) is allowed until an
// administrator says so.


/**
 * A small POSIX path normaliser (no node:path — this runs in the browser too):
 * collapses `//`, `.` and `..` (which stops at the root) and drops a trailing
 * `/`. Returns null for anything that isn't an absolute path, so callers fail
 * closed on it.
 */
export function normalisePosixPath(value: string): string | null {
  if (!value.startsWith("/") || value.includes("\0")) return null;
  const parts: string[] = [];
  for (const part of value.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** True when `path` is `prefix` or lies under it, compared by whole segments (/srv covers /srv/app, not /srvx). */
export function isPathWithin(path: string, prefix: string): boolean {
  if (prefix === "/") return true;
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Registry host[:port] as parseReference reports it, lower-cased; Docker Hub's aliases become docker.io. */
export function normaliseRegistry(value: string): string {
  const host = value.trim().toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

const capability = z
  .string()
  .trim()
  .regex(/^(CAP_)?[A-Z_]+$|^ALL$/i, "a capability such as NET_ADMIN, or ALL")
  .max(64)
  .transform(normaliseCapability);

const pathPrefix = z
  .string()
  .trim()
  .max(4096)
  .refine((value) => normalisePosixPath(value) !== null, "must be an absolute path")
  .transform((value) => normalisePosixPath(value) as string);

const registryHost = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(
    /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/,
    'a registry host, e.g. docker.io or registry.example.com:5000 (no scheme or path)',
  )
  .transform(normaliseRegistry);

const dedupe = <T>(values: T[]): T[] => [...new Set(values)];

export const deployPolicySchema = z.object({
  /** `--privileged`: every capability and every device; effectively root on the host. */
  allowPrivileged: z.boolean().default(false),
  /** Capabilities `capAdd` may name, normalised (upper case, no CAP_ prefix). "ALL" allows any, including `capAdd: ["ALL"]`. */
  allowedCapabilities: z.array(capability).max(64).default([]).transform(dedupe),
  /** Host network, host PID namespace and host IPC namespace. */
  allowHostNamespaces: z.boolean().default(false),
  /** Absolute host path prefixes bind mounts may come from, normalised. Empty: no bind mounts at all. "/" allows any. */
  bindMountAllowlist: z.array(pathPrefix).max(100).default([]).transform(dedupe),
  /** Host devices passed into the container. */
  allowDevices: z.boolean().default(false),
  /**
   * Registry hosts images may come from (`docker.io`, `registry.example.com:5000`),
   * compared case-insensitively. Empty means ANY registry: where an image comes
   * from doesn't by itself give a container power over the host (unlike the
   * rules above), and an empty allowlist meaning "nothing deploys" would make a
   * fresh install useless. Administrators who want provenance control list
   * their registries here.
   */
  registryAllowlist: z.array(registryHost).max(100).default([]).transform(dedupe),
  /** Every container must set `memoryBytes`. */
  requireMemoryLimit: z.boolean().default(false),
  /** Upper bound for `memoryBytes`; a container without a memory limit exceeds it. */
  maxMemoryBytes: z.number().int().positive().optional(),
  /** Every container must set `cpus`. */
  requireCpuLimit: z.boolean().default(false),
  /** Upper bound for `cpus`; a container without a CPU limit exceeds it. */
  maxCpus: z.number().positive().max(1024).optional(),
});

export type DeployPolicy = z.infer<typeof deployPolicySchema>;
export type DeployPolicyInput = z.input<typeof deployPolicySchema>;

/** Every rule's id: a setting of the policy. */
export type RuleId = keyof DeployPolicy;

/** Every rule id → its human label, for the policy editor and for messages. */
export const RULES = {
  allowPrivileged: "Allow privileged containers",
  allowedCapabilities: "Allowed capabilities",
  allowHostNamespaces: "Allow host namespaces (network, PID, IPC)",
  bindMountAllowlist: "Bind-mount path allowlist",
  allowDevices: "Allow host devices",
  registryAllowlist: "Registry allowlist",
  requireMemoryLimit: "Require a memory limit",
  maxMemoryBytes: "Maximum memory limit",
  requireCpuLimit: "Require a CPU limit",
  maxCpus: "Maximum CPU limit",
} as const satisfies Record<RuleId, string>;

export const RULE_IDS: readonly RuleId[] = Object.freeze(Object.keys(RULES) as RuleId[]);

/** The safe defaults: nothing privileged, no capabilities, no host namespaces, bind mounts or devices; any registry; no limits required. */
export const DEFAULT_POLICY: DeployPolicy = deepFreeze(deployPolicySchema.parse({}));

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (inner && typeof inner === "object") Object.freeze(inner);
  return Object.freeze(value);
}
