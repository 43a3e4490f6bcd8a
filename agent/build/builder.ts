import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, cp, lchown, lstat, mkdir, mkdtemp, open, readdir, readFile, rm, utimes } from "node:fs/promises";
import { AgentError } from "../errors";
import { resolveInRoot } from "../snapshots/secure-path";
import path from "node:path";
import type { ContainerEngine } from "../engine/engine";
import type { ContainerIo } from "../engine/container-io";
import { resolveUser } from "../engine/resolve-user";
import type { ImageService } from "../images/image-service";
import type { ImageRecord } from "../images/image-records";
import { applyLayer } from "../snapshots/apply-layer";
import { openLayerStream } from "../snapshots/decompress";
import { createReadStream } from "node:fs";
import { shortId } from "../images/digest";
import type { BuildCache } from "./cache";
import { ContextError, hashSources, resolveSource } from "./context";
import { type Instruction, argWords, expandWord, expandWords, parseDockerfile, parseKeyValues, DockerfileError } from "./dockerfile";
import { directoryToTar } from "./layer-tar";
import { parseGoDuration } from "../../lib/deploy/docker-run/units";

/** container.MinimumDuration: a health check duration other than 0 may not be shorter. */
const MINIMUM_DURATION_NS = 1_000_000;

// The legacy (non-BuildKit) builder: each instruction makes an image; RUN
// steps run in a temporary container of our own engine and their changes are
// committed; COPY/ADD build a layer directly from the context. Every step is
// cached by (parent image, instruction, content of the files it copies).

/** The build failed: a step's command exited non-zero (`exitCode`), or the Dockerfile asks for what can't be done. */
export class BuildError extends AgentError<"BUILD_FAILED"> {
  override name = "BuildError";
  constructor(
    message: string,
    readonly exitCode?: number,
  ) {
    super("BUILD_FAILED", message);
  }
}

export interface BuildOptions {
  /** The extracted context directory. */
  context: string;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache: boolean;
  target?: string;
  /** One line (or fragment) of build output, as `docker build` prints it. */
  output: (text: string) => void;
  signal?: AbortSignal;
}

export interface BuildDeps {
  engine: ContainerEngine;
  /** A RUN step's output. */
  io: ContainerIo;
  images: ImageService;
  cache: BuildCache;
  tmpDir: string;
}

type Config = Record<string, unknown> & { config?: Record<string, unknown> };

interface StageState {
  name: string | null;
  image: ImageRecord | null;
  /** The full image config (config.config holds the runtime part). */
  config: Config;
  /** ARG values visible in this stage. */
  args: Map<string, string>;
  /** CMD was set in this stage (an ENTRYPOINT then keeps it). */
  cmdSet?: boolean;
}

const DEFAULT_SHELL = ["/bin/sh", "-c"];
const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** ARGs Docker lets through without a declaration. */
const BUILTIN_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

function runtimeConfig(c: Config): Record<string, unknown> {
  c.config ??= {};
  return c.config;
}

function envOf(c: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of (runtimeConfig(c).Env as string[] | undefined) ?? []) {
    const i = e.indexOf("=");
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

function setEnv(c: Config, key: string, value: string): void {
  const rc = runtimeConfig(c);
  const env = ((rc.Env as string[] | undefined) ?? []).filter((e) => !e.startsWith(`${key}=`));
  env.push(`${key}=${value}`);
  rc.Env = env;
}

export async function buildImage(deps: BuildDeps, opts: BuildOptions): Promise<ImageRecord> {
  const dockerfilePath = await resolveSource(opts.context, opts.dockerfile).catch(() => {
    throw new BuildError(`Cannot locate specified Dockerfile: ${opts.dockerfile}`);
  });
  const parsed = parseDockerfile(await readFile(dockerfilePath, "utf8"));
  const escape = parsed.escape;
  const stages = parsed.stages;
  let last = stages.length - 1;
  if (opts.target) {
    last = stages.findIndex((s) => s.name === opts.target!.toLowerCase());
    if (last < 0) throw new BuildError(`failed to reach build target ${opts.target} in Dockerfile`);
  }
  const total = parsed.all.filter((i) => parsed.all.indexOf(i) <= parsed.all.indexOf(stages[last]!.instructions.at(-1) ?? stages[last]!.fromInstruction)).length;
  const globalArgs = new Map<string, string>();
  for (const a of parsed.globalArgs) {
    const value = opts.buildArgs[a.name] ?? (a.value !== null ? expandWord(a.value, Object.fromEntries(globalArgs), escape) : null);
    if (value !== null && value !== undefined) globalArgs.set(a.name, value);
  }
  const used = new Set<string>();
  const done: StageState[] = [];
  let step = 0;
  const say = (text: string) => opts.output(text);
  const stepLine = (i: Instruction) => say(`Step ${++step}/${total} : ${i.original}\n`);

  // Global ARGs are steps too, as docker build counts them.
  for (const a of parsed.all) {
    if (a === stages[0]!.fromInstruction) break;
    stepLine(a);
  }

  let final: ImageRecord | null = null;
  for (const stage of stages.slice(0, last + 1)) {
    opts.signal?.throwIfAborted();
    stepLine(stage.fromInstruction);
    const state = await fromImage(deps, stage, done, globalArgs, escape, say);
    for (const ins of stage.instructions) {
      opts.signal?.throwIfAborted();
      stepLine(ins);
      await runInstruction(deps, opts, state, ins, done, escape, used, say);
    }
    if (opts.labels && Object.keys(opts.labels).length && stage.index === last) {
      const rc = runtimeConfig(state.config);
      rc.Labels = { ...((rc.Labels as Record<string, string> | undefined) ?? {}), ...opts.labels };
      state.image = await configOnly(deps, state, `LABEL ${Object.entries(opts.labels).map(([k, v]) => `${k}=${v}`).join(" ")}`, opts.noCache);
    }
    if (!state.image) throw new BuildError("the build produced no image (a FROM scratch stage needs at least one step that adds content)");
    done.push(state);
    final = state.image;
  }
  const unused = Object.keys(opts.buildArgs).filter((a) => !used.has(a) && !globalArgs.has(a) && !BUILTIN_ARGS.includes(a));
  if (unused.length) say(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed\n`);
  return final!;
}

async function fromImage(deps: BuildDeps, stage: { name: string | null; from: string; index: number }, done: StageState[], globalArgs: Map<string, string>, escape: string, say: (t: string) => void): Promise<StageState> {
  const ref = expandWord(stage.from, Object.fromEntries(globalArgs), escape);
  const args = new Map<string, string>();
  const earlier = done.find((d) => d.name === ref.toLowerCase());
  if (earlier) {
    say(` ---> ${shortId(earlier.image!.id)}\n`);
    return { name: stage.name, image: earlier.image, config: structuredClone(earlier.config), args };
  }
  if (ref === "scratch") {
    say(" ---> \n");
    return { name: stage.name, image: null, config: { config: { Env: [DEFAULT_PATH] } }, args };
  }
  let image: ImageRecord;
  try {
    image = deps.images.resolve(ref);
  } catch {
    say(`Pulling image ${ref}\n`);
    image = await deps.images.pull(ref);
  }
  say(` ---> ${shortId(image.id)}\n`);
  const config = (await deps.images.configOf(image.id)) as Config;
  for (const onbuild of ((config.config?.OnBuild as string[] | undefined) ?? [])) say(`# Executing 1 build trigger: ${onbuild} (ONBUILD triggers are recorded, not run)\n`);
  return { name: stage.name, image, config: { ...config, config: { ...(config.config ?? {}), OnBuild: null } }, args };
}

function cacheKey(parent: ImageRecord | null, text: string, extra = ""): string {
  return createHash("sha256").update(`${parent?.id ?? "scratch"}\n${text}\n${extra}`).digest("hex");
}

/** The image a step made before, unless --no-cache; says "Using cache" when there is one. */
function cachedStep(deps: BuildDeps, key: string, noCache: boolean, say?: (t: string) => void): ImageRecord | null {
  const cached = noCache ? null : deps.cache.lookup(key, deps.images);
  if (cached) say?.(" ---> Using cache\n");
  return cached;
}

/** A step that changes only the config: a new image with the same layers (cached like any step). */
async function configOnly(deps: BuildDeps, state: StageState, createdBy: string, noCache: boolean, say?: (t: string) => void): Promise<ImageRecord> {
  const key = cacheKey(state.image, createdBy, JSON.stringify(state.config.config ?? {}));
  const cached = cachedStep(deps, key, noCache, say);
  if (cached) return cached;
  const image = await deps.images.createImage({ parent: state.image, config: state.config, layer: null, history: { created_by: `/bin/sh -c #(nop) ${createdBy}` }, made: "build" });
  await deps.cache.store(key, image.id);
  return image;
}

async function runInstruction(
  deps: BuildDeps,
  opts: BuildOptions,
  state: StageState,
  ins: Instruction,
  done: StageState[],
  escape: string,
  used: Set<string>,
  say: (t: string) => void,
): Promise<void> {
  const rc = runtimeConfig(state.config);
  // Variables for substitution: the image's env, then this stage's ARGs (env wins, as in Docker).
  const vars = () => ({ ...Object.fromEntries(state.args), ...envOf(state.config) });
  const words = () => expandWords(ins.args, vars(), escape);
  /** WORKDIR, USER, STOPSIGNAL: the whole argument expanded as one word (spaces kept), as Docker does. */
  const whole = () => expandWord(ins.args.trim(), vars(), escape);
  const finish = async (createdBy: string) => {
    state.image = await configOnly(deps, state, createdBy, opts.noCache, say);
    say(` ---> ${shortId(state.image.id)}\n`);
  };

  switch (ins.keyword) {
    case "ARG": {
      const set: string[] = [];
      for (const [name, def] of parseKeyValues(ins.args, vars(), { allowLegacy: false, allowNoValue: true }, escape)) {
        used.add(name);
        const value = opts.buildArgs[name] ?? def;
        if (value !== null && value !== undefined) state.args.set(name, value);
        set.push(`${name}=${value ?? ""}`);
      }
      if (!state.image) {
        say(" ---> \n");
        return;
      }
      // Recorded like Docker's legacy builder does (a config-only step), with the value in the cache key.
      return finish(`ARG ${set.join(" ")}`);
    }
    case "ENV": {
      for (const [k, v] of parseKeyValues(ins.args, vars(), { allowLegacy: true, allowNoValue: false }, escape)) setEnv(state.config, k, v ?? "");
      return finish(`ENV ${ins.args}`);
    }
    case "LABEL": {
      const labels = { ...((rc.Labels as Record<string, string> | undefined) ?? {}) };
      for (const [k, v] of parseKeyValues(ins.args, vars(), { allowLegacy: false, allowNoValue: false }, escape)) labels[k] = v ?? "";
      rc.Labels = labels;
      return finish(`LABEL ${ins.args}`);
    }
    case "MAINTAINER":
      state.config.author = ins.args;
      return finish(`MAINTAINER ${ins.args}`);
    case "EXPOSE": {
      const ports = { ...((rc.ExposedPorts as Record<string, object> | undefined) ?? {}) };
      for (const p of words()) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new DockerfileError(ins.line, `invalid containerPort: ${p}`);
        ports[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      rc.ExposedPorts = ports;
      return finish(`EXPOSE ${words().join(" ")}`);
    }
    case "VOLUME": {
      const vols = { ...((rc.Volumes as Record<string, object> | undefined) ?? {}) };
      for (const v of ins.json ?? argWords(ins, escape).map((w) => expandWord(w, vars(), escape))) {
        if (!v) throw new DockerfileError(ins.line, "VOLUME specified can not be an empty string");
        vols[v] = {};
      }
      rc.Volumes = vols;
      return finish(`VOLUME ${JSON.stringify(ins.json ?? words())}`);
    }
    case "USER":
      rc.User = whole();
      return finish(`USER ${rc.User as string}`);
    case "WORKDIR": {
      const dir = whole();
      rc.WorkingDir = path.posix.resolve((rc.WorkingDir as string | undefined) || "/", dir);
      return finish(`WORKDIR ${rc.WorkingDir as string}`);
    }
    case "CMD":
      rc.Cmd = ins.json ?? [...shellOf(rc), ins.args];
      state.cmdSet = true;
      return finish(`CMD ${JSON.stringify(rc.Cmd)}`);
    case "ENTRYPOINT":
      rc.Entrypoint = ins.json ?? [...shellOf(rc), ins.args];
      // As Docker: a new ENTRYPOINT clears an inherited CMD (one set in this stage stays).
      if (!state.cmdSet) rc.Cmd = null;
      return finish(`ENTRYPOINT ${JSON.stringify(rc.Entrypoint)}`);
    case "STOPSIGNAL":
      rc.StopSignal = whole();
      return finish(`STOPSIGNAL ${rc.StopSignal as string}`);
    case "SHELL":
      if (!ins.json || !ins.json.length) throw new DockerfileError(ins.line, "SHELL requires the arguments to be in JSON form");
      rc.Shell = ins.json;
      return finish(`SHELL ${JSON.stringify(ins.json)}`);
    case "ONBUILD":
      rc.OnBuild = [...((rc.OnBuild as string[] | null | undefined) ?? []), ins.args];
      return finish(`ONBUILD ${ins.args}`);
    case "HEALTHCHECK":
      rc.Healthcheck = healthcheck(ins);
      return finish(`HEALTHCHECK ${ins.args}`);
    case "RUN":
      return runStep(deps, opts, state, ins, used, say);
    case "COPY":
    case "ADD":
      return copyStep(deps, opts, state, ins, done, escape, say);
    case "FROM":
      throw new DockerfileError(ins.line, "unexpected FROM");
  }
}

function shellOf(rc: Record<string, unknown>): string[] {
  return (rc.Shell as string[] | undefined) ?? DEFAULT_SHELL;
}

/** A HEALTHCHECK duration flag (Go's time.ParseDuration, as the builder's parseOptInterval): nanoseconds, 0 when unset. */
function duration(flag: string | undefined, line: number, name: string): number {
  if (!flag) return 0;
  const ns = parseGoDuration(flag);
  if (ns === null) throw new DockerfileError(line, `time: invalid duration ${JSON.stringify(flag)}`);
  if (ns !== 0 && ns < MINIMUM_DURATION_NS) throw new DockerfileError(line, `Interval "${name}" cannot be less than 1ms`);
  return ns;
}

/**
 * The image config's Healthcheck for a HEALTHCHECK instruction, as Docker's
 * builder records it: NONE alone, or CMD in exec form (["CMD", args…]) or
 * shell form (["CMD-SHELL", "the command line"]), with the flags' durations
 * in nanoseconds and the retries (0, unset, for each flag not given).
 */
function healthcheck(ins: Instruction) {
  const text = ins.args.trim();
  if (/^none$/i.test(text)) return { Test: ["NONE"] };
  const m = /^cmd\s+([\s\S]+)$/i.exec(text);
  if (!m) throw new DockerfileError(ins.line, "HEALTHCHECK requires CMD or NONE");
  const test = ins.json ? ["CMD", ...ins.json] : ["CMD-SHELL", m[1]!];
  const hc: Record<string, unknown> = {
    Test: test,
    Interval: duration(ins.flags.interval, ins.line, "interval"),
    Timeout: duration(ins.flags.timeout, ins.line, "timeout"),
    StartPeriod: duration(ins.flags["start-period"], ins.line, "start-period"),
    StartInterval: duration(ins.flags["start-interval"], ins.line, "start-interval"),
    Retries: ins.flags.retries ? Number(ins.flags.retries) : 0,
  };
  // Docker's image config omits the zero values (omitempty).
  for (const k of Object.keys(hc)) if (hc[k] === 0) delete hc[k];
  return hc;
}

async function runStep(deps: BuildDeps, opts: BuildOptions, state: StageState, ins: Instruction, used: Set<string>, say: (t: string) => void): Promise<void> {
  const rc = runtimeConfig(state.config);
  if (!state.image) throw new BuildError(`RUN on an empty (scratch) image at line ${ins.line}: there is nothing to run`);
  const cmd = ins.json ?? [...shellOf(rc), ins.args];
  // Build args reach RUN as environment variables (and are part of the cache key), as in Docker.
  const argEnv = [...state.args].filter(([k]) => !(k in envOf(state.config))).map(([k, v]) => `${k}=${v}`);
  for (const k of state.args.keys()) used.add(k);
  const key = cacheKey(state.image, `RUN ${JSON.stringify(cmd)}`, `${argEnv.join("\n")}\n${JSON.stringify(rc)}`);
  const cached = cachedStep(deps, key, opts.noCache, say);
  if (cached) {
    state.image = cached;
    say(` ---> ${shortId(cached.id)}\n`);
    return;
  }
  const created = await deps.engine.create({
    Image: state.image.id,
    Cmd: cmd,
    Entrypoint: [""],
    // A RUN step is not health-checked (Docker's builder: withoutHealthcheck).
    Healthcheck: { Test: ["NONE"] },
    Env: [...((rc.Env as string[] | undefined) ?? []), ...argEnv],
    User: (rc.User as string | undefined) ?? "",
    WorkingDir: (rc.WorkingDir as string | undefined) || "/",
    Labels: {},
    HostConfig: { NetworkMode: "default" },
  } as never);
  const id = created.id;
  say(` ---> Running in ${id.slice(0, 12)}\n`);
  try {
    const abort = new AbortController();
    // The client went away: the RUN process goes too, not just our reading of its output.
    opts.signal?.addEventListener(
      "abort",
      () => {
        abort.abort();
        void deps.engine.kill(id, "SIGKILL").catch(() => {});
      },
      { once: true },
    );
    const exitWait = deps.engine.wait(id, "next-exit");
    const output = await deps.io.output(id, { stdout: true, stderr: true }, abort.signal);
    await deps.engine.start(id).catch((e: unknown) => {
      abort.abort(); // nothing will read the output
      throw e;
    });
    for await (const entry of output) say(entry.text);
    const { StatusCode } = await exitWait;
    if (StatusCode !== 0) throw new BuildError(`The command '${cmd.join(" ")}' returned a non-zero code: ${StatusCode}`, StatusCode);
    const imageId = await deps.engine.commit(id, { config: state.config, createdBy: `${cmd.join(" ")}`, pause: false, made: "build" });
    state.image = deps.images.resolve(imageId);
    await deps.cache.store(key, imageId);
  } finally {
    await deps.engine.remove(id, { force: true, volumes: true }).catch(() => {});
    say(`Removing intermediate container ${id.slice(0, 12)}\n`);
  }
  say(` ---> ${shortId(state.image.id)}\n`);
}

/** Mounts an image's root filesystem read-only at a temp dir; returns it and an unmount. */
async function mountImage(deps: BuildDeps, image: ImageRecord): Promise<{ dir: string; release: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(deps.tmpDir, "from-"));
  const top = image.layers.at(-1);
  if (!top) return { dir, release: () => rm(dir, { recursive: true, force: true }) };
  await deps.images.snapshots.mount(top.chainId, dir, {});
  return {
    dir,
    release: async () => {
      await deps.images.snapshots.unmount(dir).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/** Go filepath.Match-style glob (one path level per segment). */
function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function expandGlob(root: string, pattern: string): Promise<string[]> {
  const parts = path.posix.normalize(pattern).replace(/^\/+/, "").split("/").filter(Boolean);
  let current = [""];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of current) {
      if (!hasGlob(part)) {
        next.push(base ? `${base}/${part}` : part);
        continue;
      }
      const dir = path.join(root, base);
      if (!existsSync(dir)) continue;
      const re = globToRegExp(part);
      for (const name of (await readdir(dir)).sort()) if (re.test(name)) next.push(base ? `${base}/${name}` : name);
    }
    current = next;
  }
  return current;
}

async function copyStep(deps: BuildDeps, opts: BuildOptions, state: StageState, ins: Instruction, done: StageState[], escape: string, say: (t: string) => void): Promise<void> {
  const rc = runtimeConfig(state.config);
  const env = { ...Object.fromEntries(state.args), ...envOf(state.config) };
  // Split first, then each word expanded (a variable holding spaces stays one source), as Docker does.
  const args = ins.json ?? argWords(ins, escape).map((w) => expandWord(w, env, escape));
  if (args.length < 2) throw new DockerfileError(ins.line, `${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  const dest = args.at(-1)!;
  const sources = args.slice(0, -1);
  if (sources.some((s) => /^https?:\/\//.test(s))) throw new BuildError(`${ins.keyword} from a URL is not supported (no network access at build time): ${sources.find((s) => /^https?:\/\//.test(s))}`);

  // Where the sources come from: the context, an earlier stage, or an image.
  let root = opts.context;
  let release: (() => Promise<void>) | null = null;
  /** The image the files come from (COPY --from): part of what the new layer's content came from. */
  let copiedFrom: ImageRecord | null = null;
  if (ins.flags.from) {
    const from = expandWord(ins.flags.from, env, escape);
    const stage = done.find((d) => d.name === from.toLowerCase()) ?? (/^\d+$/.test(from) ? done[Number(from)] : undefined);
    let image = stage?.image ?? null;
    if (!stage) {
      try {
        image = deps.images.resolve(from);
      } catch {
        image = await deps.images.pull(from);
      }
    }
    if (!image) throw new BuildError(`COPY --from=${from}: that stage has no content`);
    copiedFrom = image;
    const mounted = await mountImage(deps, image);
    root = mounted.dir;
    release = mounted.release;
  }
  const staging = await mkdtemp(path.join(deps.tmpDir, "copy-"));
  try {
    const resolved: string[] = [];
    const labels: string[] = [];
    for (const s of sources) {
      const matches = hasGlob(s) ? await expandGlob(root, s) : [s];
      if (!matches.length) throw new ContextError(`COPY failed: no source files were specified (${s} matched nothing)`);
      for (const m of matches) {
        resolved.push(await resolveSource(root, m));
        labels.push(m);
      }
    }
    // For --from, the source image's id stands in for where its files live.
    const contentKey = await hashSources(resolved, labels.map((l) => `${ins.flags.from ?? ""}:${l}`));
    const key = cacheKey(state.image, `${ins.keyword} ${JSON.stringify(ins.flags)} ${JSON.stringify(args)}`, contentKey);
    const cached = cachedStep(deps, key, opts.noCache, say);
    if (cached) {
      state.image = cached;
      say(` ---> ${shortId(cached.id)}\n`);
      return;
    }

    const workdir = (rc.WorkingDir as string | undefined) || "/";
    let destAbs = path.posix.resolve(workdir, dest);
    // The parent image decides what the destination is: an existing directory is copied into, a symlinked
    // path (/bin -> usr/bin) is followed inside the image, and existing parents keep their own metadata.
    const parentRoot = state.image ? await mountImage(deps, state.image) : null;
    try {
      let destExistsAsDir = false;
      if (parentRoot) {
        const inImage = await resolveInRoot(parentRoot.dir, destAbs, { followFinal: true }).catch(() => null);
        if (inImage) {
          destAbs = "/" + path.relative(parentRoot.dir, inImage).split(path.sep).join("/");
          destExistsAsDir = Boolean((await lstat(inImage).catch(() => null))?.isDirectory());
        }
      }
      const destIsDir =
        dest.endsWith("/") || dest === "." || destAbs === path.posix.resolve(workdir) || destExistsAsDir || resolved.length > 1 || (sources.length === 1 && hasGlob(sources[0]!));
      let owner: { uid: number; gid: number } = { uid: 0, gid: 0 };
      if (ins.flags.chown) {
        const spec = expandWord(ins.flags.chown, env, escape);
        if (/^\d+(:\d+)?$/.test(spec)) {
          const [u, g] = spec.split(":");
          owner = { uid: Number(u), gid: Number(g ?? u) };
        } else if (parentRoot) {
          const u = await resolveUser(parentRoot.dir, spec);
          owner = { uid: u.uid, gid: u.gid };
        } else {
          throw new BuildError(`--chown=${spec}: names need an /etc/passwd, and a scratch image has none; use numeric ids`);
        }
      }
      const target = path.join(staging, destAbs);
      const written: string[] = [];
      for (const src of resolved) {
        const st = await lstat(src);
        const isArchive = ins.keyword === "ADD" && st.isFile() && (await looksLikeTar(src));
        if (isArchive) {
          // ADD: a local tar is unpacked at the destination (confined to it).
          await mkdir(target, { recursive: true });
          await applyLayer(openLayerStream(createReadStream(src), "ADD archive"), target);
          written.push(target);
          continue;
        }
        const into = st.isDirectory() ? target : destIsDir ? path.join(target, path.basename(src)) : target;
        await mkdir(st.isDirectory() ? into : path.dirname(into), { recursive: true });
        await cp(src, into, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true, errorOnExist: false });
        written.push(into);
      }
      // What was copied gets the owner (0:0 unless --chown); directories above it look as they do in the image.
      for (const w of new Set(written)) await setOwnerTree(w, owner);
      const tops = new Set(written);
      for (let dir = path.dirname(target); dir.startsWith(staging) && dir !== staging; dir = path.dirname(dir)) {
        if (tops.has(dir)) continue;
        await matchImage(dir, parentRoot?.dir ?? null, staging);
      }
      if (!tops.has(target) && destIsDir && target !== staging) await matchImage(target, parentRoot?.dir ?? null, staging);
    } finally {
      await parentRoot?.release();
    }
    const image = await deps.images.createImage({
      parent: state.image,
      config: state.config,
      layer: directoryToTar(staging, { overlay: false }),
      history: { created_by: `/bin/sh -c #(nop) ${ins.keyword} ${sources.join(" ")} in ${destAbs}` },
      made: "build",
      sources: copiedFrom ? [copiedFrom] : [],
    });
    state.image = image;
    await deps.cache.store(key, image.id);
    say(` ---> ${shortId(image.id)}\n`);
  } finally {
    await rm(staging, { recursive: true, force: true });
    if (release) await release();
  }
}

async function looksLikeTar(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buf, 0, 512, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return true;
    if (bytesRead >= 4 && buf.readUInt32LE(0) === 0xfd2fb528) return true;
    return bytesRead === 512 && buf.toString("latin1", 257, 262) === "ustar";
  } finally {
    await handle.close();
  }
}

/** COPY's ownership: everything it adds (the staging tree) gets the owner, 0:0 by default. */
async function setOwnerTree(entry: string, owner: { uid: number; gid: number }): Promise<void> {
  const st = await lstat(entry);
  if (st.isSymbolicLink()) return lchown(entry, owner.uid, owner.gid);
  await chown(entry, owner.uid, owner.gid);
  if (st.isDirectory()) for (const name of await readdir(entry)) await setOwnerTree(path.join(entry, name), owner);
}

/** A staging directory that only leads to what was copied: the image's own mode, owner and mtime for it, or 0755 root for a new one. */
async function matchImage(stagingDir: string, imageRoot: string | null, staging: string): Promise<void> {
  const rel = path.relative(staging, stagingDir);
  const inImage = imageRoot ? await lstat(path.join(imageRoot, rel)).catch(() => null) : null;
  if (inImage?.isDirectory()) {
    await chmod(stagingDir, inImage.mode & 0o7777);
    await chown(stagingDir, inImage.uid, inImage.gid);
    await utimes(stagingDir, inImage.atime, inImage.mtime);
  } else {
    await chmod(stagingDir, 0o755);
    await chown(stagingDir, 0, 0);
  }
}
