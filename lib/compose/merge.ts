// Compose's merge rules, for several files merged in order and for `extends`:
// mappings merge key by key (a later scalar wins); environment, labels,
// sysctls, depends_on, networks and ulimits merge by key; ports, expose, dns,
// cap_add… are appended without duplicates; volumes and secrets merge by
// their target; command, entrypoint and healthcheck.test are replaced.

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** "A=b" / "A" list items or a mapping → a mapping (null = take it from the environment). */
export function listOrDict(value: unknown, separator = "="): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = String(item);
      const i = text.indexOf(separator);
      if (i < 0) out[text] = null;
      else out[text.slice(0, i)] = text.slice(i + 1);
    }
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) out[k] = v === null || v === undefined ? null : String(v);
  }
  return out;
}

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** Short-syntax volume "src:dst[:mode]" or "dst" → its target; long syntax → target. */
export function volumeTarget(v: unknown): string {
  if (isObj(v)) return String(v.target ?? "");
  const parts = String(v).split(":");
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

export function secretTarget(v: unknown): string {
  if (isObj(v)) return String(v.target ?? v.source ?? "");
  return String(v);
}

/** A service in one canonical form, so files and `extends` merge key by key. */
export function normalizeService(svc: Obj): Obj {
  const out: Obj = { ...svc };
  for (const key of ["environment", "labels", "sysctls", "annotations"]) if (key in svc) out[key] = listOrDict(svc[key]);
  if ("depends_on" in svc) {
    const d = svc.depends_on;
    out.depends_on = Array.isArray(d) ? Object.fromEntries(d.map((name) => [String(name), { condition: "service_started" }])) : { ...(d as Obj) };
  }
  if ("networks" in svc) {
    const n = svc.networks;
    out.networks = Array.isArray(n) ? Object.fromEntries(n.map((name) => [String(name), null])) : { ...(n as Obj) };
  }
  if ("extra_hosts" in svc) {
    const h = svc.extra_hosts;
    // The map form ("host: ip") as the list form ("host:ip"); "host=ip" (newer compose) likewise.
    out.extra_hosts = isObj(h)
      ? Object.entries(h).map(([host, ip]) => `${host}:${String(ip)}`)
      : asList(h).map((e) => String(e).replace(/^([^=:]+)=/, "$1:"));
  }
  for (const key of ["dns", "dns_search", "tmpfs", "env_file"]) if (key in svc) out[key] = asList(svc[key]);
  return out;
}

const UNIQUE_LISTS = new Set(["ports", "expose", "dns", "dns_search", "tmpfs", "cap_add", "cap_drop", "devices", "security_opt", "group_add", "extra_hosts", "profiles"]);
const KEYED_MAPS = new Set(["environment", "labels", "sysctls", "annotations", "depends_on", "networks", "ulimits"]);
const REPLACED = new Set(["command", "entrypoint"]);

function uniqueAppend(a: unknown[], b: unknown[]): unknown[] {
  const seen = new Set(a.map((x) => JSON.stringify(x)));
  const out = [...a];
  for (const x of b) {
    const key = JSON.stringify(x);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(x);
    }
  }
  return out;
}

function mergeByKey(a: unknown[], b: unknown[], keyOf: (v: unknown) => string): unknown[] {
  const out = [...a];
  for (const item of b) {
    const i = out.findIndex((x) => keyOf(x) === keyOf(item));
    if (i >= 0) out[i] = item;
    else out.push(item);
  }
  return out;
}

/** Two normalised services merged: `override`'s settings over `base`'s. */
export function mergeServices(base: Obj, override: Obj): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prev = out[key];
    if (prev === undefined || value === null || REPLACED.has(key)) out[key] = value;
    else if (UNIQUE_LISTS.has(key) && Array.isArray(prev) && Array.isArray(value)) out[key] = uniqueAppend(prev, value);
    else if (key === "env_file" && Array.isArray(prev) && Array.isArray(value)) out[key] = [...prev, ...value];
    else if (key === "volumes" && Array.isArray(prev) && Array.isArray(value)) out[key] = mergeByKey(prev, value, volumeTarget);
    else if (key === "secrets" && Array.isArray(prev) && Array.isArray(value)) out[key] = mergeByKey(prev, value, secretTarget);
    else if (KEYED_MAPS.has(key) && isObj(prev) && isObj(value)) out[key] = { ...prev, ...value };
    else if (key === "logging" && isObj(prev) && isObj(value)) {
      out[key] =
        value.driver !== undefined && prev.driver !== undefined && value.driver !== prev.driver
          ? value
          : { ...prev, ...value, options: { ...(isObj(prev.options) ? prev.options : {}), ...(isObj(value.options) ? value.options : {}) } };
    } else out[key] = mergeDeep(prev, value);
  }
  return out;
}

/** Mappings merged recursively; anything else (scalars, lists such as healthcheck.test) replaced. */
export function mergeDeep(a: unknown, b: unknown): unknown {
  if (isObj(a) && isObj(b)) {
    const out: Obj = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeDeep(out[k], v) : v;
    return out;
  }
  return b;
}

/** Whole documents merged in order: services by rule, networks/volumes/secrets by key, the rest deep. */
export function mergeDocuments(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (key === "services" && isObj(out.services) && isObj(value)) {
      const services: Obj = { ...out.services };
      for (const [name, svc] of Object.entries(value)) {
        services[name] = isObj(services[name]) && isObj(svc) ? mergeServices(services[name] as Obj, svc) : svc;
      }
      out.services = services;
    } else out[key] = key in out ? mergeDeep(out[key], value) : value;
  }
  return out;
}
