import "server-only";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { serveArgs, type AgentConfig } from "./agent-config";

// "This machine": the gateway runs the agent itself and restarts it if it exits.
// Stopping the gateway stops the agent but not the containers (conmon holds them).

export class LocalAgent {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;
  private output = "";
  private respawn: NodeJS.Timeout | null = null;

  constructor(
    private readonly bundle: string,
    private readonly config: AgentConfig,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    this.stopping = false;
    await mkdir(path.dirname(this.config.socket), { recursive: true });
    this.spawn();
  }

  private spawn(): void {
    const child = spawn(process.execPath, [this.bundle, ...serveArgs(this.config)], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-8192);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.once("exit", (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      this.log(`local agent exited (${signal ?? code}); restarting: ${this.output.trim().split("\n").slice(-3).join(" | ")}`);
      // Back off up to 30 s if it keeps failing.
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.restarts++, 5));
      this.respawn = setTimeout(() => {
        this.respawn = null;
        if (!this.stopping) this.spawn();
      }, delay);
      this.respawn.unref();
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Restarts the process (after an upgrade of the bundle on disk). */
  async restart(): Promise<void> {
    await this.stop();
    this.restarts = 0;
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // A respawn pending from a crash would otherwise start a second, untracked agent after a restart.
    if (this.respawn) clearTimeout(this.respawn);
    this.respawn = null;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
