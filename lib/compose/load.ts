// loadStack: a stack's source (compose files, .env, env_files, profiles) →
// the StackModel Berth runs, or every problem found, each with its file, path
// and line. Pure: it runs in the browser too (validation as you type).
//
// Order, as the Compose Specification has it: each file is parsed,
// interpolated, validated against the schema and checked against Berth's
// allowlist; `extends` is resolved within it; then the files are merged in
// order, profiles applied, and every service mapped to a DeploySpec.

import { interpolate, type Lookup } from "./interpolate";
import { parseDotenv } from "./dotenv";
import { mapService, type MapContext } from "./map-service";
import { isObj, mergeDocuments, mergeServices, normalizeService, type Obj } from "./merge";
import type { LoadResult, StackFile, StackModel, StackNetwork, StackProblem, StackSecret, StackService, StackSource, StackVolume } from "./model";
import { dirOf, formatPath, resolveStackPath, type PathSegment } from "./path";
import { validateCompose } from "./schema";
import { findUnsupported, SERVICE_KEYS } from "./unsupported";
import { LIMITS, locate, parseYamlFile, problemAt, type ParsedFile } from "./yaml-source";

export { LIMITS } from "./yaml-source";

const DEFAULT_FILES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

interface LoadedFile {
  parsed: ParsedFile;
  /** Interpolated, validated, env_file paths made relative to the stack's root. */
  doc: Obj;
  /** Services with `extends` resolved (normalised), once asked for. */
  resolved?: Record<string, Obj>;
}

export function loadStack(source: StackSource, options: { stackName: string; env?: Record<string, string> }): LoadResult {
  const problems: StackProblem[] = [];
  const warnings: StackProblem[] = [];

  const files = new Map<string, StackFile>();
  const given = Array.isArray(source?.files) ? source.files : [];
  if (given.length > LIMITS.files) return fail([{ path: "", message: `a stack has at most ${LIMITS.files} files (got ${given.length})` }]);
  for (const f of given) {
    const path = resolveStackPath("", String(f?.path ?? ""));
    if (!path || typeof f.content !== "string") {
      problems.push({ path: "", message: `"${String(f?.path ?? "")}" is not a relative file path inside the stack` });
      continue;
    }
    if (files.has(path)) problems.push({ file: path, path: "", message: `${path} is given twice` });
    files.set(path, { path, content: f.content });
  }
  if (problems.length) return fail(problems);

  let composeFiles = source.composeFiles;
  if (!composeFiles || composeFiles.length === 0) {
    const found = DEFAULT_FILES.find((f) => files.has(f));
    const yamls = [...files.keys()].filter((f) => /\.ya?ml$/.test(f));
    if (found) composeFiles = [found];
    else if (yamls.length === 1) composeFiles = yamls;
    else return fail([{ path: "", message: yamls.length ? `name the compose files to use (there are ${yamls.length} YAML files)` : "the stack has no compose file (compose.yaml)" }]);
  }
  const order: string[] = [];
  for (const f of composeFiles) {
    const p = resolveStackPath("", f);
    if (!p || !files.has(p)) problems.push({ path: "", message: `compose file "${f}" is not among the stack's files` });
    else order.push(p);
  }
  if (problems.length) return fail(problems);

  // The environment: the source's .env, with options.env over it (as the shell's environment wins in compose).
  const shell = options.env ?? {};
  let dotenv: Record<string, string> = {};
  const envFile = files.get(".env");
  if (envFile) {
    const r = parseDotenv(envFile.content, (n) => (Object.hasOwn(shell, n) ? shell[n] : undefined), { preferLookup: true });
    if (!r.ok) return fail(r.problems.map((p) => ({ file: ".env", path: "", line: p.line, message: p.message })));
    dotenv = r.vars;
  }
  const lookup: Lookup = (n) => (Object.hasOwn(shell, n) ? shell[n] : Object.hasOwn(dotenv, n) ? dotenv[n] : undefined);
  const unsetWarned = new Set<string>();

  const loaded = new Map<string, LoadedFile | null>();
  const loadFile = (path: string): LoadedFile | null => {
    if (loaded.has(path)) return loaded.get(path)!;
    loaded.set(path, null);
    const r = parseYamlFile(path, files.get(path)!.content);
    if (!r.ok) {
      problems.push(...r.problems);
      return null;
    }
    const parsed = r.parsed;
    const before = problems.length;
    const at = (p: PathSegment[], m: string) => problems.push(problemAt(parsed, p, m));
    if (parsed.value === null || parsed.value === undefined) {
      problems.push({ file: path, path: "", message: `${path} is empty` });
      return null;
    }
    if (!isObj(parsed.value)) {
      problems.push({ file: path, path: "", line: 1, message: `${path} must be a mapping with services:` });
      return null;
    }
    const doc = interpolateTree(parsed.value, [], lookup, at, (name, p) => {
      if (unsetWarned.has(name)) return;
      unsetWarned.add(name);
      warnings.push(problemAt(parsed, p, `the ${name} variable is not set: using an empty string`));
    }) as Obj;
    if (problems.length > before) return null;
    // Schema errors and Berth's refusals together, so one pass shows everything (a key is reported once).
    const schemaErrors = validateCompose(doc);
    for (const e of schemaErrors) at(e.path, `${formatPath(e.path) || "the file"} ${e.message}${suggestion(e)}`);
    const reported = new Set(schemaErrors.map((e) => formatPath(e.path)));
    for (const refusal of findUnsupported(doc)) if (!reported.has(formatPath(refusal.path))) at(refusal.path, refusal.message);
    if (isObj(doc.services) && Object.keys(doc.services).length > LIMITS.services) {
      at(["services"], `a stack has at most ${LIMITS.services} services (this file has ${Object.keys(doc.services).length})`);
    }
    // env_file paths, relative to this file, made relative to the stack's root.
    for (const [name, svc] of Object.entries(isObj(doc.services) ? doc.services : {})) {
      if (!isObj(svc) || svc.env_file === undefined) continue;
      const list = Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
      svc.env_file = list.map((entry, i) => {
        const o = isObj(entry) ? entry : { path: entry };
        const resolved = resolveStackPath(dirOf(path), String(o.path));
        if (!resolved) at(["services", name, "env_file", ...(Array.isArray(svc.env_file) ? [i] : [])], `env_file "${String(o.path)}" must be a relative path inside the stack`);
        return { ...o, path: resolved ?? String(o.path) };
      });
    }
    if ("version" in doc) warnings.push(problemAt(parsed, ["version"], "version is obsolete and ignored"));
    if (problems.length > before) return null;
    const file: LoadedFile = { parsed, doc };
    loaded.set(path, file);
    return file;
  };

  const ordered = order.map(loadFile);
  if (problems.length) return fail(problems);
  const docs = ordered as LoadedFile[];

  // extends, resolved within each file (or in another of the stack's files with `file:`).
  const resolving = new Set<string>();
  const resolveService = (file: LoadedFile, name: string, from: { file: LoadedFile; path: PathSegment[] } | null): Obj | null => {
    file.resolved ??= {};
    if (file.resolved[name]) return file.resolved[name]!;
    const services = isObj(file.doc.services) ? file.doc.services : {};
    const svc = services[name];
    if (!isObj(svc)) {
      const where = from ?? { file, path: [] };
      problems.push(problemAt(where.file.parsed, where.path, `extends names service "${name}", which is not in ${file.parsed.file}`));
      return null;
    }
    const key = `${file.parsed.file}\u0000${name}`;
    if (resolving.has(key)) {
      problems.push(problemAt(file.parsed, ["services", name, "extends"], `extends forms a cycle through service "${name}"`));
      return null;
    }
    const { extends: ext, ...own } = svc;
    let result = normalizeService(own);
    if (ext !== undefined) {
      const e = isObj(ext) ? ext : { service: ext };
      const extPath: PathSegment[] = ["services", name, "extends"];
      let baseFile: LoadedFile | null = file;
      if (e.file !== undefined) {
        const p = resolveStackPath(dirOf(file.parsed.file), String(e.file));
        if (!p || !files.has(p)) {
          problems.push(problemAt(file.parsed, [...extPath, "file"], `extends.file "${String(e.file)}" is not among the stack's files`));
          return null;
        }
        baseFile = loadFile(p);
      }
      if (!baseFile) return null;
      resolving.add(key);
      const base = resolveService(baseFile, String(e.service), { file, path: extPath });
      resolving.delete(key);
      if (!base) return null;
      result = mergeServices(base, result);
    }
    file.resolved[name] = result;
    return result;
  };
  for (const file of docs) {
    const services = isObj(file.doc.services) ? file.doc.services : {};
    const out: Obj = {};
    for (const name of Object.keys(services)) out[name] = resolveService(file, name, null);
    file.doc = { ...file.doc, services: out };
  }
  if (problems.length) return fail(problems);

  const merged = docs.map((f) => f.doc).reduce((a, b) => mergeDocuments(a, b));

  // Where a path of the merged document is written: the last file that has it (exactly, else the deepest match).
  const whereOf = (path: PathSegment[]): StackProblem => {
    let best: { file: LoadedFile; depth: number } | null = null;
    for (const file of [...docs].reverse()) {
      const at = locate(file.parsed, path);
      if (at?.exact) return problemAt(file.parsed, path, "");
      if (at && (!best || depthOf(file.parsed, path) > best.depth)) best = { file, depth: depthOf(file.parsed, path) };
    }
    return best ? problemAt(best.file.parsed, path, "") : { path: formatPath(path), message: "" };
  };
  const problem = (path: PathSegment[], message: string, where?: { file: string; line: number }) =>
    problems.push({ ...whereOf(path), ...(where ? { file: where.file, line: where.line, column: undefined } : {}), message: `${formatPath(path)}: ${message}` });
  const warn = (path: PathSegment[], message: string) => warnings.push({ ...whereOf(path), message: `${formatPath(path)}: ${message}` });

  const projectSource = typeof merged.name === "string" && merged.name !== "" ? merged.name : options.stackName;
  const project = normalizeProject(projectSource);
  if (!project) {
    problem(typeof merged.name === "string" ? ["name"] : [], `"${projectSource}" can't be a project name: use lower-case letters, digits, _ and -, starting with a letter or digit`);
    return fail(problems);
  }

  const allServices = isObj(merged.services) ? (merged.services as Record<string, Obj>) : {};
  const total = Object.keys(allServices).length;
  if (total === 0) problem([], "the stack has no services");
  if (total > LIMITS.services) problem(["services"], `a stack has at most ${LIMITS.services} services (got ${total})`);

  // Profiles: services without profiles always run; others when one of theirs is enabled ("*" enables all).
  // As compose: the profiles asked for, else COMPOSE_PROFILES from the environment or .env.
  const enabledProfiles = new Set(
    source.profiles ?? (lookup("COMPOSE_PROFILES") ?? "").split(",").map((p) => p.trim()).filter(Boolean),
  );
  const isEnabled = (svc: Obj) => {
    const p = Array.isArray(svc.profiles) ? svc.profiles.map(String) : [];
    return p.length === 0 || enabledProfiles.has("*") || p.some((x) => enabledProfiles.has(x));
  };
  const enabled = Object.entries(allServices).filter(([, svc]) => isEnabled(svc));
  const enabledNames = new Set(enabled.map(([n]) => n));

  // Top-level networks, volumes and secrets.
  const networks: Record<string, StackNetwork> = {};
  const usesDefault = enabled.some(([, svc]) => svc.network_mode === undefined && svc.networks === undefined);
  const declaredNetworks = isObj(merged.networks) ? merged.networks : {};
  const networkKeys = [...Object.keys(declaredNetworks), ...(usesDefault && !("default" in declaredNetworks) ? ["default"] : [])];
  for (const key of networkKeys) {
    const n = isObj(declaredNetworks[key]) ? (declaredNetworks[key] as Obj) : {};
    const ext = n.external;
    const external = ext === true || isObj(ext);
    const ipam = isObj(n.ipam) && Array.isArray(n.ipam.config) && isObj(n.ipam.config[0]) ? n.ipam.config[0] : {};
    networks[key] = {
      name: (isObj(ext) && typeof ext.name === "string" ? ext.name : undefined) ?? (n.name as string | undefined) ?? (external ? key : `${project}_${key}`),
      external,
      internal: n.internal === true,
      driver: (n.driver as string | undefined) ?? "bridge",
      labels: stringMap(n.labels),
      driverOpts: stringMap(n.driver_opts),
      ...(ipam.subnet !== undefined ? { subnet: String(ipam.subnet) } : {}),
      ...(ipam.gateway !== undefined ? { gateway: String(ipam.gateway) } : {}),
    };
  }
  const volumes: Record<string, StackVolume> = {};
  for (const [key, raw] of Object.entries(isObj(merged.volumes) ? merged.volumes : {})) {
    const v = isObj(raw) ? raw : {};
    const ext = v.external;
    const external = ext === true || isObj(ext);
    const realName = (isObj(ext) && typeof ext.name === "string" ? ext.name : undefined) ?? (v.name as string | undefined) ?? (external ? key : `${project}_${key}`);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(realName)) problem(["volumes", key], `"${realName}" is not a volume name (letters, digits, _ . -)`);
    volumes[key] = { name: realName, external, driver: (v.driver as string | undefined) ?? "local", labels: stringMap(v.labels), driverOpts: stringMap(v.driver_opts) };
  }
  const secrets: Record<string, StackSecret> = {};
  for (const [key, raw] of Object.entries(isObj(merged.secrets) ? merged.secrets : {})) {
    const s = isObj(raw) ? raw : {};
    const ext = s.external;
    secrets[key] = { berthSecret: (isObj(ext) && typeof ext.name === "string" ? ext.name : undefined) ?? (s.name as string | undefined) ?? key };
  }

  const ctx: MapContext = { project, lookup, files, networks, volumes, secrets: new Set(Object.keys(secrets)), problem, warn };
  const mapped = new Map<string, StackService>();
  for (const [name, svc] of enabled) {
    const s = mapService(name, svc, ctx);
    if (s) mapped.set(name, s);
  }

  // Dependencies: known, enabled (or not required), acyclic.
  for (const [name, svc] of enabled) {
    const deps = isObj(svc.depends_on) ? svc.depends_on : {};
    for (const [dep, d] of Object.entries(deps)) {
      const required = !(isObj(d) && d.required === false);
      const path: PathSegment[] = ["services", name, "depends_on", dep];
      if (!(dep in allServices)) {
        if (required) problem(path, `service "${name}" depends on service "${dep}", which is not defined`);
        else warn(path, `service "${dep}" is not defined; not required, so ignored`);
      } else if (!enabledNames.has(dep)) {
        const profiles = Array.isArray(allServices[dep]!.profiles) ? (allServices[dep]!.profiles as string[]) : [];
        if (required) problem(path, `service "${dep}" is required by "${name}" but is disabled: enable profile ${profiles.map((p) => `"${p}"`).join(" or ")}`);
        else warn(path, `service "${dep}" is disabled by its profiles; not required, so "${name}" starts without it`);
      }
    }
  }
  if (problems.length) return fail(problems);
  for (const s of mapped.values()) s.dependsOn = s.dependsOn.filter((d) => mapped.has(d.service));

  const sorted = dependencyOrder([...mapped.values()]);
  if (!sorted.ok) {
    problem(["services", sorted.cycle[0]!, "depends_on"], `dependency cycle: ${sorted.cycle.join(" → ")}`);
    return fail(problems);
  }

  const usedNetworks = new Set(sorted.services.flatMap((s) => s.networks.map((n) => n.network)));
  for (const key of Object.keys(networks)) if (key === "default" && !usedNetworks.has(key) && !("default" in declaredNetworks)) delete networks[key];
  const model: StackModel = { project, services: sorted.services, networks, volumes, secrets };
  return { ok: true, model, warnings };

  function fail(list: StackProblem[]): LoadResult {
    return { ok: false, problems: list.map(({ column, line, ...rest }) => ({ ...rest, ...(line !== undefined ? { line } : {}), ...(column !== undefined ? { column } : {}) })) };
  }
}

function depthOf(parsed: ParsedFile, path: PathSegment[]): number {
  for (let n = path.length; n > 0; n--) if (locate(parsed, path.slice(0, n))?.exact) return n;
  return 0;
}

/** A hint for a misspelt key: the closest key the schema knows there. */
function suggestion(e: { path: PathSegment[]; message: string }): string {
  if (!e.message.startsWith("is not a key")) return "";
  const key = String(e.path[e.path.length - 1]);
  const inService = e.path[0] === "services" && e.path.length === 3;
  const candidates = inService ? [...SERVICE_KEYS] : e.path.length === 1 ? ["version", "name", "services", "networks", "volumes", "secrets"] : [];
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : "";
}


function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length]![b.length]!;
}

/** Compose's project-name rule: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProject(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, "").replace(/^[_-]+/, "");
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const [k, ...rest] = String(item).split("=");
      out[k!] = rest.join("=");
    }
  } else if (isObj(v)) for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? "" : String(x);
  return out;
}

/** Services in dependency order (declaration order where free), or a cycle. */
export function dependencyOrder(services: StackService[]): { ok: true; services: StackService[] } | { ok: false; cycle: string[] } {
  const byName = new Map(services.map((s) => [s.name, s]));
  const state = new Map<string, "visiting" | "done">();
  const out: StackService[] = [];
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    const st = state.get(name);
    if (st === "done") return null;
    if (st === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const d of byName.get(name)!.dependsOn) {
      if (!byName.has(d.service)) continue;
      const cycle = visit(d.service);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    out.push(byName.get(name)!);
    return null;
  };
  for (const s of services) {
    const cycle = visit(s.name);
    if (cycle) return { ok: false, cycle };
  }
  return { ok: true, services: out };
}

// Typed fields that a ${VAR} may fill: compose casts the interpolated string back.
const CASTS: [string[], "int" | "bool"][] = (
  [
    ["services.*.deploy.replicas", "int"], ["services.*.scale", "int"], ["services.*.healthcheck.retries", "int"],
    ["services.*.ports.*.target", "int"], ["services.*.deploy.resources.limits.pids", "int"], ["services.*.ulimits.*", "int"],
    ["services.*.ulimits.*.soft", "int"], ["services.*.ulimits.*.hard", "int"], ["services.*.secrets.*.mode", "int"],
    ["services.*.privileged", "bool"], ["services.*.read_only", "bool"], ["services.*.init", "bool"], ["services.*.tty", "bool"],
    ["services.*.stdin_open", "bool"], ["services.*.healthcheck.disable", "bool"], ["services.*.volumes.*.read_only", "bool"],
    ["services.*.depends_on.*.required", "bool"], ["services.*.depends_on.*.restart", "bool"], ["services.*.env_file.*.required", "bool"],
    ["networks.*.external", "bool"], ["networks.*.internal", "bool"], ["volumes.*.external", "bool"], ["secrets.*.external", "bool"],
  ] as const
).map(([p, t]) => [p.split("."), t]);

function castFor(path: PathSegment[]): "int" | "bool" | null {
  for (const [pattern, type] of CASTS) {
    if (pattern.length === path.length && pattern.every((seg, i) => seg === "*" || seg === String(path[i]))) return type;
  }
  return null;
}

function interpolateTree(
  value: unknown,
  path: PathSegment[],
  lookup: Lookup,
  problem: (path: PathSegment[], message: string) => void,
  unset: (name: string, path: PathSegment[]) => void,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    const r = interpolate(value, lookup);
    if (!r.ok) {
      problem(path, r.kind === "required" ? `required variable ${r.variable} is missing a value: ${r.message}` : r.message);
      return value;
    }
    for (const name of r.unset) unset(name, path);
    const cast = castFor(path);
    if (cast === "int" && /^-?\d+$/.test(r.value.trim())) return r.value.trim().startsWith("0") && r.value.trim().length > 1 ? parseInt(r.value, 8) : Number(r.value);
    if (cast === "bool" && /^(true|false|yes|no|on|off)$/i.test(r.value.trim())) return /^(true|yes|on)$/i.test(r.value.trim());
    return r.value;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, [...path, i], lookup, problem, unset));
  if (isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, [...path, k], lookup, problem, unset);
    return out;
  }
  return value;
}
