import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { AgentError } from "../errors";

// Stateless adapter over the runc binary. It knows runc's command line and
// output formats, nothing about containers' lifecycle (the engine owns that).

export type RuncStatus = "creating" | "created" | "running" | "paused" | "stopped";

export interface RuncState {
  id: string;
  pid: number;
  status: RuncStatus;
}

/** runc refused or failed: an internal error whose message (runc's own words) is shown. */
export class RuncError extends AgentError<"INTERNAL"> {
  override name = "RuncError";
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super("INTERNAL", message);
  }
}

export interface RuncOptions {
  /** runc's state directory (--root); on tmpfs so a reboot clears it. */
  root: string;
  binary?: string;
}

export class Runc {
  readonly binary: string;
  readonly root: string;

  constructor(options: RuncOptions) {
    this.binary = options.binary ?? "runc";
    this.root = options.root;
  }

  /** Global arguments every runc call (and conmon's) starts with. */
  globalArgs(): string[] {
    return ["--root", this.root];
  }

  /** The container's runc state, or null if runc doesn't know it (never created, deleted, or lost to a reboot). */
  async state(id: string): Promise<RuncState | null> {
    try {
      const out = await this.run(["state", id]);
      const parsed = JSON.parse(out) as { id: string; pid: number; status: RuncStatus };
      return { id: parsed.id, pid: parsed.pid, status: parsed.status };
    } catch (e) {
      if (e instanceof RuncError && /does not exist|not exist/.test(e.stderr)) return null;
      throw e;
    }
  }

  start(id: string): Promise<string> {
    return this.run(["start", id]);
  }

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    await this.run(["kill", ...(all ? ["--all"] : []), id, String(signal)]);
  }

  async pause(id: string): Promise<void> {
    await this.run(["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.run(["resume", id]);
  }

  /** Removes runc's record (and cgroup) of a stopped container; with force it kills a live one first. */
  async delete(id: string, force = false): Promise<void> {
    try {
      await this.run(["delete", ...(force ? ["--force"] : []), id]);
    } catch (e) {
      if (e instanceof RuncError && /does not exist|not exist/.test(e.stderr)) return;
      throw e;
    }
  }

  /** Host PIDs of the container's processes. */
  async pids(id: string): Promise<number[]> {
    const out = await this.run(["ps", "--format", "json", id]);
    return (JSON.parse(out) as number[] | null) ?? [];
  }

  async update(id: string, resourcesJson: string): Promise<void> {
    await this.runWithInput(["update", "--resources", "-", id], resourcesJson);
  }

  /**
   * Starts `runc exec` for a process spec file. With `detach` runc returns once
   * the process runs (its pid goes to pidFile); otherwise the returned child
   * lives as long as the process and exits with its status.
   */
  exec(id: string, processFile: string, options: { tty?: boolean; detach?: boolean; pidFile?: string; size?: { height: number; width: number } } = {}): ChildProcess {
    const args = [...this.globalArgs(), "exec", "--process", processFile];
    if (options.tty) args.push("--tty");
    if (options.detach) args.push("--detach");
    if (options.pidFile) args.push("--pid-file", options.pidFile);
    args.push(id);
    if (!options.tty || options.detach) return spawn(this.binary, args, { stdio: ["pipe", "pipe", "pipe"] });
    // In the foreground with a TTY, runc copies between the container's pty and
    // its own terminal, and needs one (/dev/tty). script(1) gives it one; its
    // size is the container pty's size, and resizing it (SIGWINCH) resizes that.
    const size = options.size && options.size.height && options.size.width ? `stty rows ${options.size.height} cols ${options.size.width}; ` : "";
    const command = `${size}exec ${[this.binary, ...args].map(shellQuote).join(" ")}`;
    return spawn("script", ["-qefc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  }

  private run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, [...this.globalArgs(), ...args], { maxBuffer: 16 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new RuncError(`runc ${args[0]} failed: ${runcMessage(stderr) || err.message}`, stderr));
        else resolve(stdout);
      });
    });
  }

  private runWithInput(args: string[], input: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.binary, [...this.globalArgs(), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new RuncError(`runc ${args[0]} failed: ${runcMessage(stderr) || err.message}`, stderr));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** runc prints `time=… level=error msg="…"` lines or JSON lines (with --log-format=json); this keeps the message. */
export function runcMessage(output: string): string {
  const messages: string[] = [];
  for (const line of output.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    if (trimmed.startsWith("{")) {
      try {
        const entry = JSON.parse(trimmed) as { level?: string; msg?: string };
        if (entry.msg && (entry.level === "error" || entry.level === "fatal")) messages.push(entry.msg);
        continue;
      } catch {
        // fall through: not JSON after all
      }
    }
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(trimmed);
    messages.push(m ? m[1]!.replace(/\\"/g, '"') : trimmed);
  }
  return messages.join("; ");
}

/** The last error runc wrote to its JSON log file (conmon passes --log to it). */
export async function lastRuntimeError(logFile: string): Promise<string> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return runcMessage(text);
}
