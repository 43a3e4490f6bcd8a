import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readlink, realpath, rmdir, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { AgentError } from "../errors";
import { EngineError } from "./errors";

// Bind mounts under a path allowlist (the gateway's deploy policy), made
// race-free on the host.
//
// The policy judges a bind source by its path as written. If we handed that
// path to runc, the kernel would follow any symlink on the way, so a container
// allowed to write to /srv/allowed could plant /srv/allowed/escape → / and a
// second container binding /srv/allowed/escape would see the host's root.
//
// So for a confined container the agent opens the source itself, one
// component at a time with O_NOFOLLOW (through /proc/self/fd/<dir>/<name>,
// Node's stand-in for openat), expanding symlinks by hand, and creates missing
// directories only where the allowlist reaches. The object finally opened is
// checked where it really is (readlink of its /proc/self/fd entry) against
// the allowlist's real paths; then exactly that object is bind-mounted, through
// its file descriptor, onto a private staging point, and the staging point is
// what runc mounts. A symlink swapped in after the check changes nothing: the
// descriptor already names the object.

const O_PATH = 0o10000000;
const MAX_SYMLINKS = 40;
const MOUNT_TIMEOUT_MS = 30_000;

function refuse(source: string, why: string): EngineError {
  return new EngineError("FORBIDDEN", `bind mount of ${source} is not allowed: ${why}`);
}

/** POSIX-normalised, no trailing slash. */
function clean(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

export function isWithin(p: string, prefix: string): boolean {
  return prefix === "/" || p === prefix || p.startsWith(`${prefix}/`);
}

/** Throws unless the source, as written, lies under one of the prefixes. */
export function checkBindSourceWritten(source: string, prefixes: string[]): void {
  const written = clean(source);
  if (!prefixes.some((p) => isWithin(written, clean(p)))) {
    throw refuse(source, `it is outside the allowed paths (${prefixes.join(", ")})`);
  }
}

async function openPath(p: string, flags = 0): Promise<FileHandle> {
  return open(p, O_PATH | constants.O_NOFOLLOW | flags);
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

export interface ConfinedSource {
  handle: FileHandle;
  /** Where the object opened really is, on the host. */
  realPath: string;
  isDirectory: boolean;
}

/**
 * Opens a bind source confined to `prefixes`: the object opened must really
 * lie under one of them (symlinks inside are fine, ones leading out are not).
 * With `create`, missing directories are made, but only under (or on the way
 * to) an allowed path.
 */
export async function openConfinedSource(source: string, prefixes: string[], options: { create: boolean }): Promise<ConfinedSource> {
  checkBindSourceWritten(source, prefixes);
  const written = prefixes.map(clean);
  // The allowlist's own symlinks (say /var/run → /run) were the administrator's choice: compare against real paths.
  const real = await Promise.all(written.map((p) => realpath(p).catch(() => p)));
  const mayCreate = (p: string) => written.concat(real).some((prefix) => isWithin(p, prefix) || isWithin(prefix, p));

  let pending = clean(source).split("/").filter(Boolean);
  let cur = "/";
  let dir = await open("/", O_PATH | constants.O_DIRECTORY);
  let links = 0;
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === ".") continue;
      if (name === "..") {
        cur = path.posix.dirname(cur);
        const parent = await openPath(cur, constants.O_DIRECTORY);
        await dir.close();
        dir = parent;
        continue;
      }
      const child = `/proc/self/fd/${dir.fd}/${name}`;
      const next = path.posix.join(cur, name);
      let handle: FileHandle;
      try {
        handle = await openPath(child);
      } catch (e) {
        if (code(e) !== "ENOENT") throw refuse(source, `${next} can't be opened (${code(e) ?? String(e)})`);
        if (!options.create) throw new EngineError("INVALID", `invalid mount config for type "bind": bind source path does not exist: ${source}`);
        if (!mayCreate(next)) throw refuse(source, `${next} does not exist and is outside the allowed paths`);
        // mkdir never follows a symlink in the last component: one planted meanwhile makes it fail, not escape.
        await mkdir(child, { mode: 0o755 }).catch((err: unknown) => {
          if (code(err) !== "EEXIST") throw err;
        });
        handle = await openPath(child);
      }
      const st = await handle.stat();
      if (st.isSymbolicLink()) {
        await handle.close();
        if (++links > MAX_SYMLINKS) throw refuse(source, "too many levels of symbolic links");
        const target = await readlink(child);
        pending = [...target.split("/").filter(Boolean), ...pending];
        if (target.startsWith("/")) {
          const root = await open("/", O_PATH | constants.O_DIRECTORY);
          await dir.close();
          dir = root;
          cur = "/";
        }
        continue;
      }
      if (pending.length > 0 && !st.isDirectory()) {
        await handle.close();
        throw refuse(source, `${next} is not a directory`);
      }
      await dir.close();
      dir = handle;
      cur = next;
    }
    const st = await dir.stat();
    const opened = { handle: dir, realPath: await readlink(`/proc/self/fd/${dir.fd}`), isDirectory: st.isDirectory() };
    await checkOpenedWithin(source, opened, prefixes);
    return opened;
  } catch (e) {
    await dir.close().catch(() => {});
    throw e;
  }
}

/**
 * Throws unless the object `opened` names really lies under one of
 * `prefixes` (as written, or as their own symlinks resolve): how a bind held
 * to several allowlists (its container's, and those --volumes-from brought) is
 * checked against each.
 */
export async function checkOpenedWithin(source: string, opened: ConfinedSource, prefixes: string[]): Promise<void> {
  checkBindSourceWritten(source, prefixes);
  const written = prefixes.map(clean);
  const real = await Promise.all(written.map((p) => realpath(p).catch(() => p)));
  const at = opened.realPath;
  if (at.endsWith(" (deleted)") || !real.concat(written).some((prefix) => isWithin(at, prefix))) {
    throw refuse(source, `it leads to ${at}, outside the allowed paths (${written.join(", ")})`);
  }
}

function run(command: string, args: string[], extraFd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe", ...(extraFd === undefined ? [] : [extraFd])] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), MOUNT_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      if (status === 0) resolve();
      else reject(new AgentError("INTERNAL", `${command} ${args.join(" ")}: ${stderr.trim() || `exit ${status}`}`));
    });
  });
}

/**
 * Bind-mounts exactly the opened object onto `stage` (a directory or file
 * made here) through its descriptor, handed to mount(8) as fd 3, with no
 * canonicalisation of the path (which would resolve it back to a name).
 */
export async function stageConfinedSource(opened: ConfinedSource, stage: string): Promise<void> {
  await mkdir(path.dirname(stage), { recursive: true, mode: 0o700 });
  if (opened.isDirectory) await mkdir(stage, { mode: 0o700 }).catch((e: unknown) => (code(e) === "EEXIST" ? undefined : Promise.reject(e)));
  else await writeFile(stage, "", { mode: 0o600, flag: "a" });
  await run("mount", ["--no-canonicalize", "--bind", "/proc/self/fd/3", stage], opened.handle.fd);
}

export interface BindStage {
  path: string;
  isDirectory: boolean;
}

/** Takes the staging points down once runc has made its own mounts from them (lazily if something holds one). */
export async function unstage(stages: BindStage[]): Promise<void> {
  for (const stage of stages) {
    const down = await run("umount", ["--no-canonicalize", stage.path])
      .catch(() => run("umount", ["--no-canonicalize", "-l", stage.path]))
      .then(() => true)
      .catch(() => false);
    // Never a recursive removal: while still mounted, the staging point is the host's directory.
    if (down) await (stage.isDirectory ? rmdir(stage.path) : unlink(stage.path)).catch(() => {});
  }
}
