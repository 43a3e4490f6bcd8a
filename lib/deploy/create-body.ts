import type { DeploySpec } from "./spec";

// A DeploySpec → the body of `POST /containers/create` (Docker Engine API
// v1.43 shape), limited to the fields our agent reads
// (agent/engine/create-request.ts). The container name goes in the `name`
// query parameter, and pullPolicy / registryId drive the pull before it: none
// of them is in the body. Runs in the browser too: no node: imports.

/** Networks that aren't user-defined: no network-scoped aliases there. */
const BUILTIN_NETWORKS = new Set(["bridge", "default", "host", "none"]);

const seconds = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1e9));

/**
 * Mounts the way `docker run` sends what formatDockerRun writes: a bind or
 * volume as a Binds entry ("src:dst[:ro]", as -v: a missing host directory is
 * created), or, when a path holds a ":" that Binds can't carry, as a Mounts
 * entry (as --mount); a tmpfs as a Tmpfs entry ("size=N").
 */
function mountFields(mounts: DeploySpec["mounts"]) {
  const binds: string[] = [];
  const apiMounts: Record<string, unknown>[] = [];
  const tmpfs: Record<string, string> = {};
  for (const m of mounts) {
    if (m.type === "tmpfs") {
      tmpfs[m.target] = m.sizeBytes ? `size=${m.sizeBytes}` : "";
      continue;
    }
    if (!m.target.includes(":") && !(m.source ?? "").includes(":")) {
      binds.push([m.source, m.target, m.readOnly ? "ro" : undefined].filter((p) => p !== undefined).join(":"));
      continue;
    }
    apiMounts.push({
      Type: m.type,
      ...(m.source !== undefined ? { Source: m.source } : {}),
      Target: m.target,
      ReadOnly: m.readOnly,
    });
  }
  return { binds, apiMounts, tmpfs };
}

/** The create body for a (validated) spec. */
export function toCreateBody(spec: DeploySpec): Record<string, unknown> {
  const body: Record<string, unknown> = { Image: spec.image };
  if (spec.command) body.Cmd = [...spec.command];
  // `--entrypoint ""` arrives at Docker as [""]: no entrypoint, and the image's Cmd dropped too.
  if (spec.entrypoint) body.Entrypoint = spec.entrypoint.length ? [...spec.entrypoint] : [""];
  if (spec.env.length) body.Env = spec.env.map((e) => `${e.name}=${e.value}`);
  if (spec.workingDir) body.WorkingDir = spec.workingDir;
  if (spec.user) body.User = spec.user;
  if (spec.hostname) body.Hostname = spec.hostname;
  if (Object.keys(spec.labels).length) body.Labels = { ...spec.labels };

  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    (portBindings[key] ??= []).push({ HostIp: p.hostIp ?? "", HostPort: p.hostPort === undefined ? "" : String(p.hostPort) });
  }
  if (spec.ports.length) body.ExposedPorts = Object.fromEntries(Object.keys(portBindings).map((k) => [k, {}]));

  const hc = spec.healthcheck;
  if (hc) {
    const healthcheck: Record<string, unknown> = { Test: [...hc.test] };
    if (hc.intervalSeconds !== undefined) healthcheck.Interval = seconds(hc.intervalSeconds);
    if (hc.timeoutSeconds !== undefined) healthcheck.Timeout = seconds(hc.timeoutSeconds);
    if (hc.startPeriodSeconds !== undefined) healthcheck.StartPeriod = seconds(hc.startPeriodSeconds);
    if (hc.retries !== undefined) healthcheck.Retries = hc.retries;
    body.Healthcheck = healthcheck;
  }

  const network = spec.network ?? "default";
  const restart = spec.restartPolicy;
  const host: Record<string, unknown> = {
    NetworkMode: network,
    RestartPolicy: {
      Name: restart.name,
      // dockerd refuses a count with any other policy.
      MaximumRetryCount: restart.name === "on-failure" ? (restart.maximumRetryCount ?? 0) : 0,
    },
    Privileged: spec.privileged,
    ReadonlyRootfs: spec.readOnlyRootfs,
  };
  if (spec.ports.length) host.PortBindings = portBindings;
  const { binds, apiMounts, tmpfs } = mountFields(spec.mounts);
  if (binds.length) host.Binds = binds;
  if (apiMounts.length) host.Mounts = apiMounts;
  if (Object.keys(tmpfs).length) host.Tmpfs = tmpfs;
  if (spec.memoryBytes !== undefined) host.Memory = spec.memoryBytes;
  if (spec.cpus !== undefined) host.NanoCpus = Math.round(spec.cpus * 1e9);
  if (spec.pidsLimit !== undefined) host.PidsLimit = spec.pidsLimit;
  if (spec.capAdd.length) host.CapAdd = [...spec.capAdd];
  if (spec.capDrop.length) host.CapDrop = [...spec.capDrop];
  if (spec.pidMode) host.PidMode = spec.pidMode;
  if (spec.ipcMode) host.IpcMode = spec.ipcMode;
  if (spec.devices.length) {
    host.Devices = spec.devices.map((d) => ({
      PathOnHost: d.hostPath,
      PathInContainer: d.containerPath ?? d.hostPath,
      CgroupPermissions: d.permissions,
    }));
  }
  body.HostConfig = host;

  if (spec.aliases.length && !BUILTIN_NETWORKS.has(network)) {
    body.NetworkingConfig = { EndpointsConfig: { [network]: { Aliases: [...spec.aliases] } } };
  }
  return body;
}
