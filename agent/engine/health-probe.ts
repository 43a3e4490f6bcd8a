import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runcMessage } from "../runtime/runc";
import type { ContainerRecord } from "./container-store";
import { type ExecRuntime, execFailureStatus, spawnExec } from "./exec";
import { LimitedOutput } from "./health";

// One health probe: the check's command run in the container with runc exec,
// as dockerd runs it (an exec with the container's user, working directory
// and environment, no TTY, not privileged), its stdout and stderr collected
// (capped), killed when it runs past its timeout or the monitor stops.
// Probes are not docker exec sessions: they never appear in ExecIDs, and
// nothing of them is kept once they end.

export interface ProbeOutcome {
  /** The command's exit status; -1 when it could not be run at all. */
  exitCode: number;
  output: string;
  /** It ran past the timeout and was killed. */
  timedOut: boolean;
}

export interface ProbeTarget {
  container: ContainerRecord;
  rootfs: string;
}

/** Runs a probe; never throws: a probe that can't run is a failed outcome. */
export interface ProbeRunner {
  run(target: ProbeTarget, command: string[], options: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome>;
}

/** After the probe's process exits, how long its output may still trickle in (an orphan can hold the pipe open). */
const OUTPUT_GRACE_MS = 1_000;
/** A killed probe whose runc doesn't go away is abandoned after this long. */
const KILL_GRACE_MS = 10_000;

export class ExecProbeRunner implements ProbeRunner {
  constructor(
    private readonly runc: ExecRuntime,
    private readonly execRoot: string,
  ) {}

  async run(target: ProbeTarget, command: string[], options: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome> {
    const id = `probe-${randomBytes(16).toString("hex")}`;
    const pidFile = path.join(this.execRoot, "exec", `${id}.pid`);
    let processFile = "";
    try {
      const { container: c } = target;
      const started = await spawnExec(this.runc, this.execRoot, c, target.rootfs, {
        id,
        config: { Cmd: command, User: c.config.User, WorkingDir: c.config.WorkingDir, Tty: false, Privileged: false },
        tty: false,
        pidFile,
      });
      processFile = started.processFile;
      const { child } = started;
      child.stdin?.end();
      const output = new LimitedOutput();
      let runcOutput = "";
      child.stdout?.on("data", (d: Buffer) => output.write(d));
      child.stderr?.on("data", (d: Buffer) => {
        output.write(d);
        runcOutput = (runcOutput + d.toString("utf8")).slice(-2000);
      });
      let gone = false;
      const exited = new Promise<number | null>((resolve) => {
        child.once("exit", (code, signal) => {
          gone = true;
          resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null));
        });
        child.once("error", () => {
          gone = true;
          resolve(null);
        });
      });
      const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
      let timedOut = false;
      // The process in the container, not just runc: killing runc would leave the probe running.
      // (Only while runc still waits for it: once it has exited, its pid may be someone else's.)
      const kill = () => {
        if (!gone) void killProbe(pidFile, () => child.kill("SIGKILL"));
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, options.timeoutMs);
      const onAbort = () => kill();
      options.signal.addEventListener("abort", onAbort, { once: true });
      let code: number | null | undefined;
      try {
        code = await raceWithin(exited, options.timeoutMs + KILL_GRACE_MS);
      } finally {
        clearTimeout(timer);
        options.signal.removeEventListener("abort", onAbort);
      }
      if (code === undefined) {
        // Not even SIGKILL ended it: stop waiting (and reading) rather than pile probes up.
        child.kill("SIGKILL");
        child.stdout?.destroy();
        child.stderr?.destroy();
        return { exitCode: -1, output: output.text(), timedOut: true };
      }
      if ((await raceWithin(closed, OUTPUT_GRACE_MS)) === undefined) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
      if (timedOut) return { exitCode: -1, output: output.text(), timedOut: true };
      if (code === null) return { exitCode: -1, output: "the health check could not be started (runc exec failed)", timedOut: false };
      // runc couldn't start the command (not found, not executable): dockerd reports the exec's error with -1.
      if (execFailureStatus(runcOutput) !== null) return { exitCode: -1, output: `OCI runtime exec failed: ${runcMessage(runcOutput)}`, timedOut: false };
      return { exitCode: code, output: output.text(), timedOut: false };
    } catch (e) {
      return { exitCode: -1, output: e instanceof Error ? e.message : String(e), timedOut: false };
    } finally {
      if (processFile) await rm(processFile, { force: true });
      await rm(pidFile, { force: true });
    }
  }
}

/** SIGKILL to the probe's process (its host pid, from runc's pid file); runc itself when it hasn't started one yet. */
async function killProbe(pidFile: string, killRunc: () => void): Promise<void> {
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (Number.isInteger(pid) && pid > 1) {
    try {
      process.kill(pid, "SIGKILL");
      return;
    } catch {
      // already gone
    }
  }
  killRunc();
}

/** The promise's value if it settles within `ms`, else undefined. */
function raceWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}
