import { type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Duplex } from "node:stream";
import { buildExecProcess, specToJson } from "../runtime/spec";
import type { Runc } from "../runtime/runc";
import { writeFileAtomic } from "../state/atomic-write";
import type { ContainerRecord } from "./container-store";
import type { ContainerEngine } from "./engine";
import { EngineError } from "./errors";
import { processEnv } from "./merge-config";
import { resolveUser } from "./resolve-user";
import { StdinRelay } from "./stdin-relay";
import { canExec } from "./status";

// docker exec: a second process in a running container, through
// `runc exec --process <process.json>`. runc stays in the foreground, so its
// exit status is the process's; with a TTY runc itself holds the pty and
// copies it to its own stdio.

export interface ExecConfig {
  Cmd: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  ConsoleSize?: [number, number] | null;
}

export interface ExecSession {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  child: ChildProcess | null;
  /** TTY sessions: the pid of script(1), whose terminal runc mirrors into the container's pty. */
  terminalPid: number;
}

/** Finished sessions are kept this long for GET /exec/{id}/json, then dropped. */
const KEEP_FINISHED_MS = 5 * 60_000;
const MAX_SESSIONS = 10_000;

export class ExecManager {
  private readonly sessions = new Map<string, ExecSession>();

  constructor(
    private readonly engine: ContainerEngine,
    private readonly runc: Runc,
    private readonly execRoot: string,
  ) {}

  create(containerKey: string, config: ExecConfig): string {
    const c = this.engine.get(containerKey);
    if (!canExec(c.state.status)) {
      if (c.state.status === "paused") throw new EngineError("CONFLICT", `Container ${c.id} is paused, unpause the container before exec`);
      throw new EngineError("CONFLICT", `container ${c.id} is not running`);
    }
    if (!Array.isArray(config.Cmd) || config.Cmd.length === 0) throw new EngineError("INVALID", "No exec command specified");
    if (this.sessions.size >= MAX_SESSIONS) throw new EngineError("CONFLICT", "too many exec sessions; try again shortly");
    const id = randomBytes(32).toString("hex");
    this.sessions.set(id, { id, containerId: c.id, config, running: false, exitCode: null, pid: 0, child: null, terminalPid: 0 });
    // Never started (the client went away): dropped after a while, like finished ones.
    setTimeout(() => {
      const s = this.sessions.get(id);
      if (s && !s.running && s.exitCode === null) this.sessions.delete(id);
    }, KEEP_FINISHED_MS).unref();
    return id;
  }

  get(id: string): ExecSession {
    const s = this.sessions.get(id);
    if (!s) throw new EngineError("NOT_FOUND", `No such exec instance: ${id}`);
    return s;
  }

  idsFor(containerId: string): string[] | null {
    const ids = [...this.sessions.values()].filter((s) => s.containerId === containerId && s.running).map((s) => s.id);
    return ids.length ? ids : null;
  }

  /** Starts the process; `done` resolves with its exit code. */
  async start(id: string, options: { tty?: boolean; consoleSize?: [number, number] | null } = {}): Promise<{ child: ChildProcess; done: Promise<number> }> {
    const s = this.get(id);
    if (s.running || s.exitCode !== null) throw new EngineError("CONFLICT", `exec instance ${id} has already been started`);
    const c = this.engine.get(s.containerId);
    if (!canExec(c.state.status)) throw new EngineError("CONFLICT", `container ${c.id} is not running`);
    const tty = options.tty ?? Boolean(s.config.Tty);
    const size = options.consoleSize ?? s.config.ConsoleSize;
    const { child, processFile } = await spawnExec(this.runc, this.execRoot, c, this.engine.paths(c.id).rootfs, { id, config: s.config, tty, size });
    s.terminalPid = child.pid ?? 0;
    s.child = child;
    s.running = true;
    let stderrTail = "";
    child.stderr?.on("data", (d: Buffer) => (stderrTail = (stderrTail + d.toString("utf8")).slice(-2000)));
    // With a TTY, runc's own complaints arrive on the terminal (stdout): the exit status is read from there too.
    if (tty) child.stdout?.on("data", (d: Buffer) => (stderrTail = (stderrTail + d.toString("utf8")).slice(-2000)));
    const done = new Promise<number>((resolve) => {
      child.on("error", () => resolve(126));
      child.on("close", (code) => resolve(execFailureStatus(stderrTail) ?? code ?? 137));
    }).then(async (code) => {
      s.running = false;
      s.exitCode = code;
      s.child = null;
      await rm(processFile, { force: true });
      setTimeout(() => this.sessions.delete(id), KEEP_FINISHED_MS).unref();
      return code;
    });
    // The pid of the exec'd process: the newest process in the container.
    void this.runc.pids(c.id).then((pids) => (s.pid = pids.at(-1) ?? 0), () => {});
    return { child, done };
  }

  /** A client's input → the running exec's stdin (its end ends stdin). */
  relayStdin(id: string, client: Duplex, head: Buffer | null): void {
    const stdin = this.get(id).child?.stdin;
    if (stdin) new StdinRelay(client, head).connect(stdin);
  }

  /**
   * Resizes a TTY exec: sets the size of script(1)'s terminal (runc's), whose
   * SIGWINCH makes runc resize the container's pty to match.
   */
  async resize(id: string, height: number, width: number): Promise<void> {
    const s = this.get(id);
    if (!s.running) throw new EngineError("CONFLICT", `exec ${id} is not running`);
    if (!s.config.Tty || !s.terminalPid || !height || !width) return;
    const runcPid = await childPid(s.terminalPid);
    if (!runcPid) return;
    await new Promise<void>((resolve) => execFile("stty", ["-F", `/proc/${runcPid}/fd/0`, "rows", String(height), "cols", String(width)], () => resolve()));
  }
}

/**
 * At agent start: process and pid files an agent killed mid-exec left behind
 * (its runc execs have read theirs long since; this agent has started none).
 */
export async function clearExecState(execRoot: string): Promise<void> {
  await rm(path.join(execRoot, "exec"), { recursive: true, force: true });
}

/** What runc exec needs of the runtime adapter. */
export type ExecRuntime = Pick<Runc, "exec">;

/**
 * Starts `config.Cmd` in the running container `c` with `runc exec`: as
 * the container's user (resolved in its own /etc/passwd) unless the exec
 * names one, in its working directory, with its environment and
 * capabilities. Used by docker exec and by health probes alike; the caller
 * removes `processFile` when the process is done.
 */
export async function spawnExec(
  runc: ExecRuntime,
  execRoot: string,
  c: ContainerRecord,
  rootfs: string,
  e: { id: string; config: ExecConfig; tty: boolean; size?: [number, number] | null; pidFile?: string },
): Promise<{ child: ChildProcess; processFile: string }> {
  const user = await resolveUser(rootfs, e.config.User || c.config.User);
  const size = e.size && e.size[0] && e.size[1] ? { height: e.size[0], width: e.size[1] } : undefined;
  const processSpec = buildExecProcess({
    args: e.config.Cmd,
    env: processEnv([...c.config.Env, ...(e.config.Env ?? [])], { hostname: c.config.Hostname, tty: e.tty }),
    cwd: e.config.WorkingDir || c.config.WorkingDir || "/",
    uid: user.uid,
    gid: user.gid,
    additionalGids: user.additionalGids,
    terminal: e.tty,
    consoleSize: size,
    privileged: c.host.Privileged || Boolean(e.config.Privileged),
    capAdd: c.host.CapAdd,
    capDrop: c.host.CapDrop,
    noNewPrivileges: c.host.SecurityOpt.some((o) => /^no-new-privileges/.test(o)),
  });
  const dir = path.join(execRoot, "exec");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const processFile = path.join(dir, `${e.id}.json`);
  await writeFileAtomic(processFile, specToJson(processSpec), 0o600);
  const child = runc.exec(c.id, processFile, { tty: e.tty, size, pidFile: e.pidFile });
  return { child, processFile };
}

/**
 * runc's own failure to start an exec'd process (not the process's status),
 * read from what runc printed: 127 when the command isn't there, 126 when it
 * can't be run, as docker exec reports them; null when runc started it.
 */
export function execFailureStatus(runcOutput: string): 126 | 127 | null {
  if (/executable file not found|no such file or directory/.test(runcOutput) && /exec failed|starting container process/.test(runcOutput)) return 127;
  if (/permission denied/.test(runcOutput) && /exec failed/.test(runcOutput)) return 126;
  return null;
}

async function childPid(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return Number(text.trim().split(/\s+/)[0] ?? 0) || 0;
}
