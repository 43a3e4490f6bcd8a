import { type DeploySpecInput, deploySpecSchema } from "../spec";
import { quoteShellWord, ShellWordsError, splitShellWords } from "../shell-words";
import { type Draft, DockerRunParseError, fail, newDraft, shown, warn } from "./draft";
import { applyFlag, BY_LONG, BY_SHORT, unsupported, UNSUPPORTED_LONG, UNSUPPORTED_SHORT } from "./flags";

// A pasted `docker run …` → a DeploySpec. parseDockerRun reads the flags the
// way the docker CLI (pflag) does: `--flag value`, `--flag=value`, `-fvalue`,
// `-f=value`, combined short booleans (`-dit`), flags up to the image, then
// the image's command verbatim. Runs in the browser too (the deploy form): no
// node: imports. formatDockerRun (./format) writes the way back.

export { DockerRunParseError } from "./draft";

export interface ParsedDockerRun {
  spec: DeploySpecInput;
  /** Flags that were read but don't apply to a deployment, and values taken literally. */
  warnings: string[];
}

const USER_NETWORK_EXCLUDED = new Set(["bridge", "default", "host", "none"]);

function finishHealthcheck(d: Draft): void {
  const h = d.health;
  if (h.none) {
    if (h.flags.length) fail(`--no-healthcheck conflicts with ${h.flags[0]}`);
    d.spec.healthcheck = { test: ["NONE"] };
    d.origins.set("healthcheck", "--no-healthcheck");
    return;
  }
  if (h.cmd === undefined) {
    if (h.flags.length) fail(`${h.flags[0]} needs --health-cmd: Berth can't keep the image's own health check test`);
    return;
  }
  const hc: NonNullable<DeploySpecInput["healthcheck"]> = { test: ["CMD-SHELL", h.cmd] };
  if (h.intervalSeconds !== undefined) hc.intervalSeconds = h.intervalSeconds;
  if (h.timeoutSeconds !== undefined) hc.timeoutSeconds = h.timeoutSeconds;
  if (h.startPeriodSeconds !== undefined) hc.startPeriodSeconds = h.startPeriodSeconds;
  if (h.retries !== undefined) hc.retries = h.retries;
  d.spec.healthcheck = hc;
  d.origins.set("healthcheck", shown("--health-cmd", h.cmd));
}

function originOf(d: Draft, path: readonly PropertyKey[]): string {
  for (let n = path.length; n > 0; n--) {
    const origin = d.origins.get(path.slice(0, n).map(String).join("."));
    if (origin) return origin;
  }
  return path.map(String).join(".") || "command";
}

/**
 * Reads a pasted `docker run` (or `docker container run`, or just its flags
 * and image). Throws DockerRunParseError naming the flag or value at fault.
 */
export function parseDockerRun(command: string): ParsedDockerRun {
  let words;
  try {
    words = splitShellWords(command);
  } catch (e) {
    if (e instanceof ShellWordsError) throw new DockerRunParseError(e.message);
    throw e;
  }
  const d = newDraft();
  for (const w of words) {
    if (w.expands) warn(d, `${quoteShellWord(w.value)} is taken as typed: Berth doesn't expand $VARIABLES, $(…) or backticks`);
  }
  const args = words.map((w) => w.value);

  let i = 0;
  if (args[i] === "sudo") i++;
  if (args[i] === "docker") {
    i++;
    if (args[i] === "container") i++;
    if (args[i] !== "run") fail(`only docker run can be pasted, not docker ${args[i] ?? ""}`.trimEnd());
    i++;
  } else if (args[i] === "run" && args.length > i + 1) {
    i++;
  }

  const next = () => (i + 1 < args.length ? args[++i] : undefined);
  let image: string | undefined;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      i++;
      image = args[i];
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const flag = `--${name}`;
      const def = BY_LONG.get(name);
      if (!def) return UNSUPPORTED_LONG.has(name) ? unsupported(flag) : fail(`unknown flag ${flag}`);
      applyFlag(d, def, flag, eq === -1 ? undefined : arg.slice(eq + 1), next);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      // A cluster of short flags: booleans, then at most one that takes the rest (or the next word) as its value.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const flag = `-${c}`;
        const def = BY_SHORT.get(c);
        if (!def) return UNSUPPORTED_SHORT.has(c) ? unsupported(`${flag} (--${UNSUPPORTED_SHORT.get(c)})`) : fail(`unknown flag ${flag}`);
        const rest = arg.slice(j + 1);
        if (def.bool) {
          if (rest.startsWith("=")) {
            applyFlag(d, def, flag, rest.slice(1), next);
            break;
          }
          applyFlag(d, def, flag, undefined, next);
          continue;
        }
        applyFlag(d, def, flag, rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest, next);
        break;
      }
      continue;
    }
    image = arg;
    break;
  }
  if (image === undefined) return fail("missing image: put the image after the flags, e.g. docker run -d -p 8080:80 nginx:1.27");
  d.spec.image = image;
  d.origins.set("image", "image");
  const rest = args.slice(i + 1);
  if (rest.length) d.spec.command = rest;

  finishHealthcheck(d);
  if (d.spec.aliases?.length && (!d.spec.network || USER_NETWORK_EXCLUDED.has(d.spec.network))) {
    fail(`${d.aliasFlag}: network aliases need a user-defined --network`);
  }
  const targets = new Map<string, number>();
  (d.spec.mounts ?? []).forEach((m, index) => {
    const key = m.target.replace(/\/+$/, "");
    if (targets.has(key)) fail(`${d.origins.get(`mounts.${index}`)}: ${m.target} is already mounted`);
    targets.set(key, index);
  });

  const spec = d.spec as DeploySpecInput;
  const checked = deploySpecSchema.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    fail(`${originOf(d, issue.path)}: ${issue.message}`);
  }
  return { spec, warnings: d.warnings };
}
