import "server-only";
import type { Permission } from "../../lib/permissions";

// Every Docker API endpoint the proxy forwards, with the permissions it needs
// on the host (all of them). A method + path not in this table is refused
// before anything reaches the agent: the table is the allowlist.

export type EndpointKind =
  /** Forwarded as is (answers may stream: logs -f, events, wait, pull progress). */
  | "plain"
  /** POST /containers/create: the body goes through the deploy policy first. */
  | "create"
  /** POST /containers/{id}/exec: audited with the command. */
  | "execCreate"
  /** POST /exec/{id}/start: may be hijacked; audited as an exec session, start and end. */
  | "execStart"
  /** POST /containers/{id}/attach: may be hijacked. */
  | "attach"
  /** POST /volumes/create: driver options (which can bind host paths) are refused. */
  | "volumeCreate"
  /** POST /networks/create: a bridge network only, no driver options (parsed with zod). */
  | "networkCreate"
  /** GET /containers/{id}/json: the answer is read whole and a deployment's secret env values masked. */
  | "containerInspect"
  /** POST /containers/{id}/update: the new limits go through the deploy policy's resource rules first. */
  | "update"
  /** PUT /containers/{id}/archive (docker cp into a container): the tar streams to the agent, under the archive cap. */
  | "archiveUpload";

export type TargetType = "container" | "image" | "network" | "volume" | "exec";

export interface Endpoint {
  method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  /** Matched against the whole path (version prefix stripped); groups are the path's parameters. */
  pattern: RegExp;
  /** The route as the Docker docs write it, for messages and the README. */
  route: string;
  /** What the call needs on the host; a function when the query decides (attach with stdin, image import). */
  permissions: readonly Permission[] | ((query: URLSearchParams) => Permission[]);
  /** The audit action: "docker.<resource>.<verb>". */
  action: string;
  /** Mutations are audited whatever the outcome (their intent first); reads only when denied. */
  mutation: boolean;
  /**
   * A read that hands out a container's files (docker cp out, export): audited
   * whatever the outcome, intent first, like a mutation; files hold what
   * inspect masks and logs don't show (keys, configuration with passwords).
   */
  exposesFiles?: true;
  kind: EndpointKind;
  /** What the first path parameter names, for the audit record's target. */
  target?: TargetType;
}

const ID = "([^/]+)";
/** Image references carry "/" (registry/repo:tag). */
const IMAGE = "(.+)";
const p = (s: string) => new RegExp(`^${s}$`);

/** A Docker boolean query flag: absent, "", "0" and "false" are off; anything else is on (fail closed). */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v !== null && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

export const ENDPOINTS: readonly Endpoint[] = [
  // System: reading the host.
  { method: "HEAD", pattern: p("/_ping"), route: "HEAD /_ping", permissions: ["hosts.read"], action: "docker.system.ping", mutation: false, kind: "plain" },
  { method: "GET", pattern: p("/_ping"), route: "GET /_ping", permissions: ["hosts.read"], action: "docker.system.ping", mutation: false, kind: "plain" },
  { method: "GET", pattern: p("/version"), route: "GET /version", permissions: ["hosts.read"], action: "docker.system.version", mutation: false, kind: "plain" },
  { method: "GET", pattern: p("/info"), route: "GET /info", permissions: ["hosts.read"], action: "docker.system.info", mutation: false, kind: "plain" },
  { method: "GET", pattern: p("/system/df"), route: "GET /system/df", permissions: ["hosts.read", "containers.read", "images.read"], action: "docker.system.df", mutation: false, kind: "plain" },
  { method: "GET", pattern: p("/events"), route: "GET /events", permissions: ["hosts.read", "containers.read"], action: "docker.system.events", mutation: false, kind: "plain" },

  // Containers.
  { method: "GET", pattern: p("/containers/json"), route: "GET /containers/json", permissions: ["containers.read"], action: "docker.containers.list", mutation: false, kind: "plain" },
  { method: "POST", pattern: p("/containers/create"), route: "POST /containers/create", permissions: ["containers.deploy"], action: "docker.containers.create", mutation: true, kind: "create" },
  { method: "POST", pattern: p("/containers/prune"), route: "POST /containers/prune", permissions: ["containers.delete"], action: "docker.containers.prune", mutation: true, kind: "plain" },
  { method: "GET", pattern: p(`/containers/${ID}/json`), route: "GET /containers/{id}/json", permissions: ["containers.read"], action: "docker.containers.inspect", mutation: false, kind: "containerInspect", target: "container" },
  { method: "GET", pattern: p(`/containers/${ID}/top`), route: "GET /containers/{id}/top", permissions: ["containers.read"], action: "docker.containers.top", mutation: false, kind: "plain", target: "container" },
  { method: "GET", pattern: p(`/containers/${ID}/stats`), route: "GET /containers/{id}/stats", permissions: ["containers.read"], action: "docker.containers.stats", mutation: false, kind: "plain", target: "container" },
  { method: "GET", pattern: p(`/containers/${ID}/logs`), route: "GET /containers/{id}/logs", permissions: ["containers.logs"], action: "docker.containers.logs", mutation: false, kind: "plain", target: "container" },
  { method: "POST", pattern: p(`/containers/${ID}/wait`), route: "POST /containers/{id}/wait", permissions: ["containers.read"], action: "docker.containers.wait", mutation: false, kind: "plain", target: "container" },
  {
    method: "POST",
    pattern: p(`/containers/${ID}/attach`),
    route: "POST /containers/{id}/attach",
    // Output only is reading logs; writing to the process's stdin is as much as an exec.
    permissions: (q) => (queryFlag(q, "stdin") ? ["containers.logs", "containers.exec"] : ["containers.logs"]),
    action: "docker.containers.attach",
    mutation: false,
    kind: "attach",
    target: "container",
  },
  ...(["start", "stop", "restart", "kill", "pause", "unpause"] as const).map(
    (verb): Endpoint => ({
      method: "POST",
      pattern: p(`/containers/${ID}/${verb}`),
      route: `POST /containers/{id}/${verb}`,
      permissions: ["containers.control"],
      action: `docker.containers.${verb}`,
      mutation: true,
      kind: "plain",
      target: "container",
    }),
  ),
  { method: "POST", pattern: p(`/containers/${ID}/resize`), route: "POST /containers/{id}/resize", permissions: ["containers.control"], action: "docker.containers.resize", mutation: false, kind: "plain", target: "container" },
  { method: "POST", pattern: p(`/containers/${ID}/rename`), route: "POST /containers/{id}/rename", permissions: ["containers.deploy"], action: "docker.containers.rename", mutation: true, kind: "plain", target: "container" },
  { method: "DELETE", pattern: p(`/containers/${ID}`), route: "DELETE /containers/{id}", permissions: ["containers.delete"], action: "docker.containers.remove", mutation: true, kind: "plain", target: "container" },
  // docker update changes what a container may use: as much a deploy as a create, judged by the same resource rules.
  { method: "POST", pattern: p(`/containers/${ID}/update`), route: "POST /containers/{id}/update", permissions: ["containers.deploy"], action: "docker.containers.update", mutation: true, kind: "update", target: "container" },

  // A container's files (docker cp, docker export). Reading them is as much as `docker exec cat`: they hold what
  // inspect masks (a deployment's secrets written to files, keys, configuration), so every look needs
  // containers.exec, as commit does; writing them is what an exec can do.
  { method: "HEAD", pattern: p(`/containers/${ID}/archive`), route: "HEAD /containers/{id}/archive", permissions: ["containers.read", "containers.exec"], action: "docker.containers.archiveStat", mutation: false, kind: "plain", target: "container" },
  { method: "GET", pattern: p(`/containers/${ID}/archive`), route: "GET /containers/{id}/archive", permissions: ["containers.read", "containers.exec"], action: "docker.containers.copyFrom", mutation: false, exposesFiles: true, kind: "plain", target: "container" },
  { method: "PUT", pattern: p(`/containers/${ID}/archive`), route: "PUT /containers/{id}/archive", permissions: ["containers.exec"], action: "docker.containers.copyTo", mutation: true, kind: "archiveUpload", target: "container" },
  { method: "GET", pattern: p(`/containers/${ID}/export`), route: "GET /containers/{id}/export", permissions: ["containers.read", "containers.exec"], action: "docker.containers.export", mutation: false, exposesFiles: true, kind: "plain", target: "container" },

  // Exec.
  { method: "POST", pattern: p(`/containers/${ID}/exec`), route: "POST /containers/{id}/exec", permissions: ["containers.exec"], action: "docker.exec.create", mutation: true, kind: "execCreate", target: "container" },
  { method: "POST", pattern: p(`/exec/${ID}/start`), route: "POST /exec/{id}/start", permissions: ["containers.exec"], action: "containers.exec.start", mutation: true, kind: "execStart", target: "exec" },
  { method: "POST", pattern: p(`/exec/${ID}/resize`), route: "POST /exec/{id}/resize", permissions: ["containers.exec"], action: "docker.exec.resize", mutation: false, kind: "plain", target: "exec" },
  { method: "GET", pattern: p(`/exec/${ID}/json`), route: "GET /exec/{id}/json", permissions: ["containers.exec"], action: "docker.exec.inspect", mutation: false, kind: "plain", target: "exec" },

  // Images.
  { method: "GET", pattern: p("/images/json"), route: "GET /images/json", permissions: ["images.read"], action: "docker.images.list", mutation: false, kind: "plain" },
  {
    method: "POST",
    pattern: p("/images/create"),
    route: "POST /images/create",
    // fromSrc imports an uploaded tarball as a new image: that is building, not pulling.
    permissions: (q) => (q.has("fromSrc") ? ["images.build"] : ["images.pull"]),
    action: "docker.images.pull",
    mutation: true,
    kind: "plain",
  },
  { method: "POST", pattern: p("/images/prune"), route: "POST /images/prune", permissions: ["images.delete"], action: "docker.images.prune", mutation: true, kind: "plain" },
  { method: "POST", pattern: p("/images/load"), route: "POST /images/load", permissions: ["images.build"], action: "docker.images.load", mutation: true, kind: "plain" },
  { method: "GET", pattern: p("/images/get"), route: "GET /images/get", permissions: ["images.read"], action: "docker.images.save", mutation: false, kind: "plain" },
  { method: "GET", pattern: p(`/images/${IMAGE}/get`), route: "GET /images/{name}/get", permissions: ["images.read"], action: "docker.images.save", mutation: false, kind: "plain", target: "image" },
  { method: "GET", pattern: p(`/images/${IMAGE}/json`), route: "GET /images/{name}/json", permissions: ["images.read"], action: "docker.images.inspect", mutation: false, kind: "plain", target: "image" },
  { method: "GET", pattern: p(`/images/${IMAGE}/history`), route: "GET /images/{name}/history", permissions: ["images.read"], action: "docker.images.history", mutation: false, kind: "plain", target: "image" },
  { method: "POST", pattern: p(`/images/${IMAGE}/tag`), route: "POST /images/{name}/tag", permissions: ["images.pull"], action: "docker.images.tag", mutation: true, kind: "plain", target: "image" },
  { method: "POST", pattern: p(`/images/${IMAGE}/push`), route: "POST /images/{name}/push", permissions: ["images.pull", "images.build"], action: "docker.images.push", mutation: true, kind: "plain", target: "image" },
  { method: "DELETE", pattern: p(`/images/${IMAGE}`), route: "DELETE /images/{name}", permissions: ["images.delete"], action: "docker.images.remove", mutation: true, kind: "plain", target: "image" },
  { method: "POST", pattern: p("/build"), route: "POST /build", permissions: ["images.build"], action: "docker.images.build", mutation: true, kind: "plain" },
  { method: "POST", pattern: p("/build/prune"), route: "POST /build/prune", permissions: ["images.delete"], action: "docker.images.buildPrune", mutation: true, kind: "plain" },
  // A commit copies the container's environment (a deployment's secret values included) into an image anyone
  // with images.read can inspect: it needs what reading that environment needs (containers.exec) as well.
  { method: "POST", pattern: p("/commit"), route: "POST /commit", permissions: ["containers.read", "containers.exec", "images.build"], action: "docker.images.commit", mutation: true, kind: "plain" },

  // Networks (reading them is reading the host).
  { method: "GET", pattern: p("/networks"), route: "GET /networks", permissions: ["hosts.read"], action: "docker.networks.list", mutation: false, kind: "plain" },
  { method: "POST", pattern: p("/networks/create"), route: "POST /networks/create", permissions: ["networks.manage"], action: "docker.networks.create", mutation: true, kind: "networkCreate" },
  { method: "POST", pattern: p("/networks/prune"), route: "POST /networks/prune", permissions: ["networks.manage"], action: "docker.networks.prune", mutation: true, kind: "plain" },
  { method: "GET", pattern: p(`/networks/${ID}`), route: "GET /networks/{id}", permissions: ["hosts.read"], action: "docker.networks.inspect", mutation: false, kind: "plain", target: "network" },
  { method: "DELETE", pattern: p(`/networks/${ID}`), route: "DELETE /networks/{id}", permissions: ["networks.manage"], action: "docker.networks.remove", mutation: true, kind: "plain", target: "network" },
  { method: "POST", pattern: p(`/networks/${ID}/connect`), route: "POST /networks/{id}/connect", permissions: ["networks.manage"], action: "docker.networks.connect", mutation: true, kind: "plain", target: "network" },
  { method: "POST", pattern: p(`/networks/${ID}/disconnect`), route: "POST /networks/{id}/disconnect", permissions: ["networks.manage"], action: "docker.networks.disconnect", mutation: true, kind: "plain", target: "network" },

  // Volumes.
  { method: "GET", pattern: p("/volumes"), route: "GET /volumes", permissions: ["hosts.read"], action: "docker.volumes.list", mutation: false, kind: "plain" },
  { method: "POST", pattern: p("/volumes/create"), route: "POST /volumes/create", permissions: ["volumes.manage"], action: "docker.volumes.create", mutation: true, kind: "volumeCreate" },
  { method: "POST", pattern: p("/volumes/prune"), route: "POST /volumes/prune", permissions: ["volumes.manage"], action: "docker.volumes.prune", mutation: true, kind: "plain" },
  { method: "GET", pattern: p(`/volumes/${ID}`), route: "GET /volumes/{name}", permissions: ["hosts.read"], action: "docker.volumes.inspect", mutation: false, kind: "plain", target: "volume" },
  { method: "DELETE", pattern: p(`/volumes/${ID}`), route: "DELETE /volumes/{name}", permissions: ["volumes.manage"], action: "docker.volumes.remove", mutation: true, kind: "plain", target: "volume" },
];

/** Audited whatever the outcome, with the intent on record before the agent is contacted. */
export function auditsEveryCall(endpoint: Endpoint): boolean {
  return endpoint.mutation || endpoint.exposesFiles === true;
}

export interface EndpointMatch {
  endpoint: Endpoint;
  /** The path's parameters (container id, image name, …), in order. */
  params: string[];
  /** Everything the call needs on the host. */
  permissions: Permission[];
}

/** The endpoint for a method and a (normalised, version-stripped) path, or null: not forwarded. */
export function matchEndpoint(method: string, path: string, query: URLSearchParams = new URLSearchParams()): EndpointMatch | null {
  for (const endpoint of ENDPOINTS) {
    if (endpoint.method !== method) continue;
    const m = endpoint.pattern.exec(path);
    if (!m) continue;
    const permissions = typeof endpoint.permissions === "function" ? endpoint.permissions(query) : [...endpoint.permissions];
    return { endpoint, params: m.slice(1), permissions };
  }
  return null;
}
