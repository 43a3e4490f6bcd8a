import "server-only";
import { toCreateBody } from "../../lib/deploy/create-body";
import { COMPOSE_LABELS, type StackModel, type StackService } from "../../lib/compose/model";
import { AppError } from "../errors";
import { configHash } from "./config-hash";

// What a service's containers are created from: the single-deploy create body
// of its spec (the very thing the policy judged), plus every network with its
// aliases, the settings beyond DeploySpec (`extra`), and the compose labels.
// The config hash covers all of it except the per-container labels, plus the
// secrets' revisions (never their values).

/** The label the gateway uses to find a stack's containers again. */
export const STACK_LABEL = "berth.stack";
/** docker-compose 1.29 on a host reads these; its version is what the label claims. */
export const COMPOSE_VERSION = "1.29.2";

/** "service:<name>" → the container of that service's first replica; host/none as they are. */
function networkModeOf(model: StackModel, service: StackService): string | null {
  const mode = service.networkMode;
  if (mode === null) return null;
  if (mode.startsWith("service:")) {
    const target = model.services.find((s) => s.name === mode.slice("service:".length));
    if (!target) throw new AppError("BAD_REQUEST", `Service "${service.name}": network_mode ${mode} names no service of the stack.`);
    return `container:${target.extra.containerName ?? `${model.project}-${target.name}-1`}`;
  }
  return mode;
}

/** The create body without the per-container labels (number, hash). */
export function serviceBody(model: StackModel, service: StackService): Record<string, unknown> {
  const body = toCreateBody(service.spec);
  const host = body.HostConfig as Record<string, unknown>;
  const mode = networkModeOf(model, service);
  if (mode !== null) {
    host.NetworkMode = mode;
    delete body.NetworkingConfig;
  } else if (service.networks.length > 0) {
    const endpoints: Record<string, unknown> = {};
    for (const n of service.networks) {
      const network = model.networks[n.network];
      if (!network) throw new AppError("BAD_REQUEST", `Service "${service.name}" joins the network "${n.network}", which the stack doesn't declare.`);
      // As docker compose: a service answers to its own name on every network it joins.
      const aliases = [...new Set([service.name, ...n.aliases])];
      endpoints[network.name] = { Aliases: aliases, ...(n.ipv4Address ? { IPAMConfig: { IPv4Address: n.ipv4Address } } : {}) };
    }
    host.NetworkMode = model.networks[service.networks[0]!.network]!.name;
    body.NetworkingConfig = { EndpointsConfig: endpoints };
  }
  const x = service.extra;
  if (x.stopSignal) body.StopSignal = x.stopSignal;
  if (x.stopGracePeriodSeconds !== undefined) body.StopTimeout = Math.round(x.stopGracePeriodSeconds);
  if (x.tty !== undefined) body.Tty = x.tty;
  if (x.stdinOpen !== undefined) body.OpenStdin = x.stdinOpen;
  if (x.domainname) body.Domainname = x.domainname;
  if (x.macAddress) body.MacAddress = x.macAddress;
  if (x.expose?.length) {
    const exposed = { ...((body.ExposedPorts as Record<string, object> | undefined) ?? {}) };
    for (const p of x.expose) exposed[p.includes("/") ? p : `${p}/tcp`] = {};
    body.ExposedPorts = exposed;
  }
  if (x.init !== undefined) host.Init = x.init;
  if (x.extraHosts?.length) host.ExtraHosts = [...x.extraHosts];
  if (x.dns?.length) host.Dns = [...x.dns];
  if (x.dnsSearch?.length) host.DnsSearch = [...x.dnsSearch];
  if (x.sysctls && Object.keys(x.sysctls).length) host.Sysctls = { ...x.sysctls };
  if (x.ulimits && Object.keys(x.ulimits).length) host.Ulimits = Object.entries(x.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard }));
  if (x.shmSizeBytes !== undefined) host.ShmSize = x.shmSizeBytes;
  if (x.securityOpt?.length) host.SecurityOpt = [...x.securityOpt];
  if (x.groupAdd?.length) host.GroupAdd = [...x.groupAdd];
  if (x.tmpfs?.length) {
    const tmpfs = { ...((host.Tmpfs as Record<string, string> | undefined) ?? {}) };
    for (const t of x.tmpfs) {
      const colon = t.indexOf(":");
      tmpfs[colon >= 0 ? t.slice(0, colon) : t] = colon >= 0 ? t.slice(colon + 1) : "";
    }
    host.Tmpfs = tmpfs;
  }
  if (x.logging) host.LogConfig = { Type: x.logging.driver, Config: { ...x.logging.options } };
  return body;
}

/** The config hash of a service: its body, the revisions of the secrets it mounts (with their targets and modes). */
export function serviceConfigHash(body: Record<string, unknown>, service: StackService, secretRevisions: Map<string, number>, model: StackModel): string {
  const secrets = service.secrets.map((s) => ({
    berthSecret: model.secrets[s.source]?.berthSecret ?? s.source,
    revision: secretRevisions.get(model.secrets[s.source]?.berthSecret ?? s.source) ?? 0,
    target: s.target,
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
  }));
  return configHash({ body, secrets });
}

/** The labels of replica `number` of a service. */
export function containerLabels(o: { project: string; stackId: string; service: StackService; number: number; hash: string }): Record<string, string> {
  const dependsOn = o.service.dependsOn.map((d) => `${d.service}:${d.condition}:${d.restart}`).join(",");
  return {
    [COMPOSE_LABELS.project]: o.project,
    [COMPOSE_LABELS.service]: o.service.name,
    [COMPOSE_LABELS.containerNumber]: String(o.number),
    [COMPOSE_LABELS.oneoff]: "False",
    [COMPOSE_LABELS.configHash]: o.hash,
    [COMPOSE_LABELS.version]: COMPOSE_VERSION,
    [COMPOSE_LABELS.dependsOn]: dependsOn,
    [STACK_LABEL]: o.stackId,
  };
}
