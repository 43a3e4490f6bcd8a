import { parseReference } from "../image-reference";
import { type ImageProvenance, judgeProvenance, looksLikeImageId } from "../image-provenance";
import type { DeploySpec } from "../deploy/spec";
import { normaliseCapability } from "../docker/capabilities";
import {
  type DeployPolicy,
  isPathWithin,
  normalisePosixPath,
  normaliseRegistry,
  RULES,
  type RuleId,
} from "./rules";

// Judges a deployment spec against the deploy policy. Pure: the deploy form
// runs it in the browser for inline errors, and checkDeploy (check.ts) runs it
// on every server path that creates or changes a container.
//
// The policy is normalised again here (capabilities, paths, registries), so a
// policy built by hand rather than through deployPolicySchema is judged the
// same way. Anything that can't be understood (a relative bind source, an
// unparseable image under a registry allowlist) is a violation: fail closed.
//
// Bind mounts are judged by their path as written, normalised lexically; a
// symlink on the host (e.g. /srv/link → /) can't be seen from here, so the
// gate (gate.ts) sends the allowlist with the create and the agent holds the
// container to where each source really leads, at every start.
//
// Registries are judged by the image's name (where a pull would come from)
// and, once the host has resolved it, by where its content came from: a name
// given by docker tag, or an image ID, proves nothing.

export interface PolicyViolation {
  rule: RuleId;
  /** RULES[rule]. */
  label: string;
  /** Names the value and the rule, for a person. */
  message: string;
  /** The spec field to highlight: "privileged", "mounts.2.source", "capAdd.0", "image", "memoryBytes"… */
  field: string;
}

function violation(rule: RuleId, field: string, what: string): PolicyViolation {
  const label = RULES[rule];
  return { rule, label, field, message: `${what} — rule "${label}"` };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** 536870912 → "512 MiB", 1610612736 → "1.5 GiB", 1000 → "1000 bytes". */
export function formatBytes(bytes: number): string {
  const trim = (n: number) => String(Math.round(n * 100) / 100);
  if (bytes >= GiB) return `${trim(bytes / GiB)} GiB`;
  if (bytes >= MiB) return `${trim(bytes / MiB)} MiB`;
  if (bytes >= 1024) return `${trim(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

const isSet = (value: number | undefined): value is number => typeof value === "number" && value > 0;

/** The image a spec names, as the host resolves it: its ID and where its content came from. */
export interface ResolvedImage {
  id: string;
  provenance: ImageProvenance | undefined;
}

/**
 * What the host said about the spec's image: resolved; absent (a pull by its
 * name comes next); not asked yet (a first pass: an image ID is judged when it
 * is); unknown (the host couldn't say: an ID can't be judged).
 */
export type ImageOnHost = { state: "resolved"; image: ResolvedImage } | { state: "absent" } | { state: "not-asked" } | { state: "unknown" };

export interface EvaluationContext {
  image?: ImageOnHost;
}

/** Registry allowlist: the name says where a pull would come from; the image on the host says where its content did come from. */
function judgeRegistry(spec: DeploySpec, registries: string[], onHost: ImageOnHost, out: PolicyViolation[]): void {
  const byId = looksLikeImageId(spec.image);
  // An ID-like reference is a name only if the host has no such image and pulls it by that name.
  if (!byId || onHost.state === "absent") {
    let registry: string | null = null;
    try {
      registry = normaliseRegistry(parseReference(spec.image).registry);
    } catch (e) {
      const why = e instanceof Error ? e.message : "not a valid image reference";
      out.push(violation("registryAllowlist", "image", `Image "${spec.image}" can't be checked against the allowed registries: ${why}`));
    }
    if (registry !== null && !registries.includes(registry)) {
      out.push(violation("registryAllowlist", "image", `Image "${spec.image}" comes from registry "${registry}", which is not allowed (${registries.join(", ")})`));
      return;
    }
  }
  if (onHost.state === "resolved") {
    const { image } = onHost;
    const verdict = judgeProvenance(image.provenance, registries);
    if (!verdict.ok) {
      const shown = spec.image === image.id ? `"${spec.image}"` : `"${spec.image}" (${image.id})`;
      out.push(violation("registryAllowlist", "image", `Image ${shown} is not from an allowed registry (${registries.join(", ")}): ${verdict.why}`));
    }
  } else if (byId && onHost.state === "unknown") {
    // An ID names no registry: only the image it resolves to on the host can be judged.
    out.push(violation("registryAllowlist", "image", `Image "${spec.image}" is an image ID: it can only be checked against the allowed registries on the host, which didn't answer`));
  }
}

export function evaluatePolicy(spec: DeploySpec, policy: DeployPolicy, context: EvaluationContext = {}): PolicyViolation[] {
  const out: PolicyViolation[] = [];

  // Image registry.
  const registries = (policy.registryAllowlist ?? []).map(normaliseRegistry);
  if (registries.length > 0) judgeRegistry(spec, registries, context.image ?? { state: "unknown" }, out);

  // Privileged.
  if (spec.privileged && !policy.allowPrivileged) {
    out.push(violation("allowPrivileged", "privileged", "Privileged mode is not allowed"));
  }

  // Capabilities (capDrop only takes power away, so it is never judged).
  const allowedCaps = new Set((policy.allowedCapabilities ?? []).map(normaliseCapability));
  if (!allowedCaps.has("ALL")) {
    (spec.capAdd ?? []).forEach((raw, i) => {
      const cap = normaliseCapability(raw);
      if (allowedCaps.has(cap)) return;
      const allowed = allowedCaps.size > 0 ? `allowed: ${[...allowedCaps].join(", ")}` : "no capabilities may be added";
      const what = cap === "ALL" ? `Adding all capabilities ("${raw}") is not allowed` : `Capability "${raw}" is not allowed`;
      out.push(violation("allowedCapabilities", `capAdd.${i}`, `${what} (${allowed})`));
    });
  }

  // Host namespaces.
  if (!policy.allowHostNamespaces) {
    if (typeof spec.network === "string" && spec.network.trim().toLowerCase() === "host") {
      out.push(violation("allowHostNamespaces", "network", `The host network ("${spec.network}") is not allowed`));
    }
    if (spec.pidMode === "host") out.push(violation("allowHostNamespaces", "pidMode", 'The host PID namespace (pidMode "host") is not allowed'));
    if (spec.ipcMode === "host") out.push(violation("allowHostNamespaces", "ipcMode", 'The host IPC namespace (ipcMode "host") is not allowed'));
  }

  // Bind mounts.
  const prefixes = (policy.bindMountAllowlist ?? []).map(normalisePosixPath).filter((p): p is string => p !== null);
  (spec.mounts ?? []).forEach((mount, i) => {
    if (mount.type !== "bind") return;
    const path = normalisePosixPath(mount.source);
    if (path !== null && prefixes.some((prefix) => isPathWithin(path, prefix))) return;
    const shown = path !== null && path !== mount.source ? `"${mount.source}" (${path})` : `"${mount.source}"`;
    const where =
      path === null
        ? "is not an absolute path"
        : prefixes.length === 0
          ? "is not allowed (no bind mounts are allowed)"
          : `is outside the allowed paths (${prefixes.join(", ")})`;
    out.push(violation("bindMountAllowlist", `mounts.${i}.source`, `Bind mount of ${shown} ${where}`));
  });

  // Devices.
  if (!policy.allowDevices) {
    (spec.devices ?? []).forEach((device, i) => {
      out.push(violation("allowDevices", `devices.${i}.hostPath`, `Device "${device.hostPath}" is not allowed`));
    });
  }

  out.push(...evaluateResources(spec, policy));
  return out;
}

/**
 * The memory and CPU rules alone, on the limits a container will have: a
 * create's, or a running container's after `docker update` (which can change
 * nothing else the policy judges).
 */
export function evaluateResources(spec: Pick<DeploySpec, "memoryBytes" | "cpus">, policy: DeployPolicy): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  if (!isSet(spec.memoryBytes)) {
    if (policy.requireMemoryLimit) out.push(violation("requireMemoryLimit", "memoryBytes", "A memory limit is required"));
    else if (isSet(policy.maxMemoryBytes)) {
      out.push(violation("maxMemoryBytes", "memoryBytes", `A memory limit of at most ${formatBytes(policy.maxMemoryBytes)} is required`));
    }
  } else if (isSet(policy.maxMemoryBytes) && spec.memoryBytes > policy.maxMemoryBytes) {
    out.push(
      violation(
        "maxMemoryBytes",
        "memoryBytes",
        `Memory limit ${formatBytes(spec.memoryBytes)} is above the maximum of ${formatBytes(policy.maxMemoryBytes)}`,
      ),
    );
  }

  // CPUs.
  if (!isSet(spec.cpus)) {
    if (policy.requireCpuLimit) out.push(violation("requireCpuLimit", "cpus", "A CPU limit is required"));
    else if (isSet(policy.maxCpus)) out.push(violation("maxCpus", "cpus", `A CPU limit of at most ${policy.maxCpus} CPUs is required`));
  } else if (isSet(policy.maxCpus) && spec.cpus > policy.maxCpus) {
    out.push(violation("maxCpus", "cpus", `CPU limit ${spec.cpus} is above the maximum of ${policy.maxCpus} CPUs`));
  }

  return out;
}
