import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { AgentError } from "../errors";
import { lastRuntimeError } from "./runc";

// Stateless adapter over conmon, the monitor that holds a container's stdio,
// writes its k8s-file log, records its exit code (and OOM) and outlives us.
// Handshake (conmon's "api-version 1"): we hold two extra fds; conmon waits
// for one byte on the start pipe, runs `runc create`, and answers on the sync
// pipe with {"data": <pid>} or a negative number and a message.

export interface ConmonLaunch {
  id: string;
  name: string;
  bundle: string;
  /** runc's pid file for the container's init. */
  pidFile: string;
  conmonPidFile: string;
  exitDir: string;
  /** Kept across reboots: conmon writes `exit` and `oom` here too. */
  persistDir: string;
  logPath: string;
  /** runc's JSON log, read for the reason when create fails. */
  runtimeLog: string;
  socketDir: string;
  runtimeArgs: string[];
  terminal: boolean;
  stdin: boolean;
  /** Bytes; conmon rotates nothing, it truncates at this size (0 = unlimited). */
  logSizeMax?: number;
}

/** conmon (or the runtime under it) could not create the container; the engine reports it as a failed start. */
export class ConmonError extends AgentError<"RUNTIME"> {
  override name = "ConmonError";
  constructor(message: string) {
    super("RUNTIME", message);
  }
}

export interface ConmonOptions {
  binary?: string;
  runtime: string;
}

const SYNC_TIMEOUT_MS = 60_000;

export class Conmon {
  readonly binary: string;
  readonly runtime: string;

  constructor(options: ConmonOptions) {
    this.binary = options.binary ?? "conmon";
    this.runtime = options.runtime;
  }

  /** Starts conmon, which creates (not starts) the container. Resolves with the container's init pid. */
  launch(c: ConmonLaunch): Promise<number> {
    const args = [
      "--api-version", "1",
      "-c", c.id,
      "-u", c.id,
      "-r", this.runtime,
      "-b", c.bundle,
      "-p", c.pidFile,
      "-n", c.name,
      "--exit-dir", c.exitDir,
      "--persist-dir", c.persistDir,
      "-l", `k8s-file:${c.logPath}`,
      "--log-level", "error",
      "--socket-dir-path", c.socketDir,
      "--conmon-pidfile", c.conmonPidFile,
      "--runtime-arg", "--log-format=json",
      "--runtime-arg", "--log",
      `--runtime-arg=${c.runtimeLog}`,
      ...c.runtimeArgs.flatMap((a) => [`--runtime-arg=${a}`]),
    ];
    if (c.logSizeMax) args.push("--log-size-max", String(c.logSizeMax));
    if (c.terminal) args.push("-t");
    if (c.stdin) args.push("-i");

    return new Promise((resolve, reject) => {
      // Its own session: the container must not die with the agent's process group.
      const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4" };
      // In the bundle: conmon writes an `oom` marker into its working directory (besides the persist dir's),
      // which would otherwise land in whatever directory the agent was started from.
      const child: ChildProcess = spawn(this.binary, args, { cwd: c.bundle, stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], env: env as NodeJS.ProcessEnv, detached: true });
      child.unref();
      const sync = child.stdio[3] as Readable;
      const start = child.stdio[4] as Writable;
      let stderr = "";
      let buffered = "";
      let settled = false;
      const timer = setTimeout(() => finish(new ConmonError(`conmon did not report the container's pid within ${SYNC_TIMEOUT_MS / 1000}s`)), SYNC_TIMEOUT_MS);
      const finish = (result: number | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sync.destroy();
        start.destroy();
        child.stderr?.destroy();
        if (typeof result === "number") resolve(result);
        else reject(result);
      };
      child.on("error", (e) => finish(new ConmonError(`cannot run conmon: ${e.message}`)));
      child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
      sync.setEncoding("utf8");
      sync.on("data", (s: string) => {
        buffered += s;
        const nl = buffered.indexOf("\n");
        if (nl < 0) return;
        let message: { data?: number; message?: string };
        try {
          message = JSON.parse(buffered.slice(0, nl)) as typeof message;
        } catch {
          return finish(new ConmonError(`conmon answered with something unexpected: ${buffered.slice(0, 200)}`));
        }
        if (typeof message.data === "number" && message.data > 0) return finish(message.data);
        void lastRuntimeError(c.runtimeLog).then((why) => finish(new ConmonError(why || message.message || "the runtime failed to create the container")));
      });
      sync.on("end", () => {
        if (settled) return;
        void lastRuntimeError(c.runtimeLog).then((why) =>
          finish(new ConmonError(why || stderr.trim() || "conmon exited before reporting the container's pid")),
        );
      });
      start.on("error", () => {});
      start.write("\0");
    });
  }

  /**
   * Resizes the container's terminal through conmon's control FIFO. Opened
   * non-blocking, so a container whose conmon is gone gives ENXIO, not a hang.
   */
  async resizeTerminal(controlFifo: string, height: number, width: number): Promise<void> {
    let handle;
    try {
      handle = await open(controlFifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENXIO" || code === "ENOENT") throw new AgentError("CONFLICT", "the container is not running (no terminal to resize)");
      throw new AgentError("INTERNAL", `cannot resize: ${(e as Error).message}`);
    }
    try {
      await handle.write(`1 ${height} ${width}\n`);
    } finally {
      await handle.close();
    }
  }

  /**
   * The container's stdin: conmon's SEQPACKET attach socket, through socat
   * (Node can't open SEQPACKET sockets). Ending `stdin` makes socat close the
   * socket, and conmon the container's stdin.
   */
  openStdin(attachSocket: string): { stdin: Writable; close(): void } {
    const child = spawn("socat", ["-u", "STDIN", `UNIX-CONNECT:${attachSocket},type=5`], { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", () => {});
    child.stdin!.on("error", () => {});
    return { stdin: child.stdin!, close: () => void child.kill() };
  }
}
