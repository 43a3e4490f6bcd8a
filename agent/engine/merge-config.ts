import path from "node:path";
import type { ImageConfig } from "../images/media-types";
import { type ContainerConfig, CreateRequestError, type HealthcheckConfig } from "../../lib/docker/create-request";

// Merging the image's config into the container's, as dockerd does at create
// time (daemon/commit.go merge, then daemon/create.go mergeAndVerifyConfig),
// and the process environment it builds at start
// (container.CreateDaemonEnvironment).

export type ImageRunConfig = NonNullable<ImageConfig["config"]>;

/** The subset of the create body that takes part in the merge. */
export type UserRunConfig = Pick<
  ContainerConfig,
  "User" | "Env" | "Cmd" | "Entrypoint" | "Labels" | "ExposedPorts" | "Volumes" | "WorkingDir" | "StopSignal" | "Healthcheck"
>;

export interface MergedContainerConfig {
  /** User spec ("", "name", "uid", "name:group", ...); "" means root. Resolve with resolveUser. */
  User: string;
  /** Config.Env as dockerd stores it: the user's entries, then the image's entries whose key the user didn't set. */
  Env: string[];
  /** null when neither the user nor (where it applies) the image gave one, as `docker inspect` shows it. */
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  /** Anonymous volume targets (image VOLUMEs and the user's Volumes). */
  Volumes: Record<string, Record<string, never>>;
  /** As stored in Config.WorkingDir: the user's or the image's, cleaned; "" when neither set one. */
  WorkingDir: string;
  /** The process's working directory: WorkingDir, or "/" when unset. */
  cwd: string;
  /** The user's or the image's, else "SIGTERM". */
  StopSignal: string;
  Healthcheck: HealthcheckConfig | undefined;
  /** Docker's Path and Args: the first word of entrypoint+cmd, and the rest. */
  path: string;
  args: string[];
}

export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const envKey = (entry: string): string => entry.split("=", 1)[0]!;

function mergeHealthcheck(
  user: HealthcheckConfig | undefined,
  image: ImageRunConfig["Healthcheck"],
): HealthcheckConfig | undefined {
  if (!image) return user ? { ...user } : undefined;
  const img: HealthcheckConfig = {
    Test: image.Test,
    Interval: image.Interval,
    Timeout: image.Timeout,
    StartPeriod: image.StartPeriod,
    StartInterval: typeof image.StartInterval === "number" ? image.StartInterval : undefined,
    Retries: image.Retries,
  };
  const pick = <K extends keyof HealthcheckConfig>(k: K) => (user?.[k] ? user[k] : img[k]);
  const merged: HealthcheckConfig = {
    Test: user?.Test && user.Test.length > 0 ? user.Test : img.Test,
    Interval: pick("Interval"),
    Timeout: pick("Timeout"),
    StartPeriod: pick("StartPeriod"),
    StartInterval: pick("StartInterval"),
    Retries: pick("Retries"),
  };
  for (const k of Object.keys(merged) as (keyof HealthcheckConfig)[]) if (merged[k] === undefined) delete merged[k];
  return merged;
}

function cleanAbsolute(dir: string): string {
  if (!dir.startsWith("/")) {
    throw new CreateRequestError(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  }
  const cleaned = path.posix.normalize(dir);
  return cleaned.length > 1 ? cleaned.replace(/\/+$/, "") : cleaned;
}

/**
 * Fills the container config in from the image config the way dockerd does:
 * - Cmd: the user's if non-empty; else the image's, unless the user gave a
 *   non-empty Entrypoint (a user Entrypoint drops the image Cmd).
 * - Entrypoint: the user's if given (non-null); `[""]` (`--entrypoint ""`)
 *   clears it; `[]` clears it too but keeps the image Cmd, as in moby.
 * - Env: merged by key, the user's value wins.
 * - Labels, ExposedPorts, Volumes: unions (the user's label value wins).
 * - User, WorkingDir, StopSignal: the user's, else the image's.
 * - Healthcheck: the user's fields, each unset one from the image.
 * Throws CreateRequestError for a relative working directory or an empty command.
 */
export function mergeContainerConfig(image: ImageRunConfig | undefined, request: UserRunConfig): MergedContainerConfig {
  const img: Partial<ImageRunConfig> = image ?? {};

  const userEnv = request.Env ?? [];
  let env: string[];
  if (userEnv.length === 0) {
    env = [...(img.Env ?? [])];
  } else {
    const userKeys = new Set(userEnv.map(envKey));
    env = [...userEnv, ...(img.Env ?? []).filter((e) => !userKeys.has(envKey(e)))];
  }

  let cmd: string[] | null = request.Cmd && request.Cmd.length > 0 ? [...request.Cmd] : null;
  let entrypoint: string[] | null = request.Entrypoint ? [...request.Entrypoint] : null;
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd) cmd = img.Cmd ? [...img.Cmd] : null;
    if (!entrypoint) entrypoint = img.Entrypoint ? [...img.Entrypoint] : null;
  }
  // mergeAndVerifyConfig: `--entrypoint ""` arrives as [""] and means "no entrypoint".
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === "") entrypoint = null;
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if ((entrypoint ?? []).length === 0 && (cmd ?? []).length === 0) {
    throw new CreateRequestError("no command specified");
  }

  const workingDir = request.WorkingDir || img.WorkingDir || "";
  const cleanedWorkingDir = workingDir ? cleanAbsolute(workingDir) : "";

  const setOf = (...maps: (Record<string, unknown> | null | undefined)[]) => {
    const out: Record<string, Record<string, never>> = {};
    for (const m of maps) for (const k of Object.keys(m ?? {})) out[k] = {};
    return out;
  };

  return {
    User: request.User || img.User || "",
    Env: env,
    Cmd: cmd,
    Entrypoint: entrypoint,
    Labels: { ...(img.Labels ?? {}), ...(request.Labels ?? {}) },
    ExposedPorts: setOf(request.ExposedPorts, img.ExposedPorts),
    Volumes: setOf(request.Volumes, img.Volumes),
    WorkingDir: cleanedWorkingDir,
    cwd: cleanedWorkingDir || "/",
    StopSignal: request.StopSignal || img.StopSignal || "SIGTERM",
    Healthcheck: mergeHealthcheck(request.Healthcheck, img.Healthcheck),
    path: argv[0]!,
    args: argv.slice(1),
  };
}

/**
 * The environment the container process gets (container.CreateDaemonEnvironment):
 * the defaults PATH, HOSTNAME=<hostname> and, with a TTY, TERM=xterm, then the
 * merged Env on top: an entry replaces the default of the same key in place
 * or is appended; an entry without "=" (`-e FOO` with FOO unset on the client)
 * removes that key. A key given twice keeps its last value, at its first place.
 */
export function processEnv(mergedEnv: readonly string[], opts: { hostname: string; tty: boolean }): string[] {
  const out: (string | null)[] = [DEFAULT_PATH_ENV, `HOSTNAME=${opts.hostname}`];
  if (opts.tty) out.push("TERM=xterm");
  const index = new Map<string, number>(out.map((e, i) => [envKey(e!), i]));
  for (const entry of mergedEnv) {
    if (!entry.includes("=")) {
      const i = index.get(entry);
      if (i !== undefined) {
        out[i] = null;
        index.delete(entry);
      }
      continue;
    }
    const key = envKey(entry);
    const i = index.get(key);
    if (i !== undefined) out[i] = entry;
    else {
      index.set(key, out.length);
      out.push(entry);
    }
  }
  return out.filter((e): e is string => e !== null);
}
