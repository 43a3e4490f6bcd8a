import "server-only";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { copyFile } from "node:fs/promises";
import net from "node:net";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Client } from "ssh2";
import { FleetError } from "./errors";
import { execSsh, shellQuote, type ExecResult } from "./ssh/exec";

// A HostLink is how the gateway does things on a host: run a command, copy a
// file there, and open a byte stream to the agent's socket. Over SSH for remote
// hosts; directly for "this machine".

export interface RunOptions {
  timeoutMs?: number;
  stdin?: string;
}

export interface HostLink {
  readonly kind: "ssh" | "local";
  /** Runs a shell command as root (through sudo -n when the SSH user is not root). */
  run(command: string, options?: RunOptions): Promise<ExecResult>;
  /** Runs a shell command as the SSH user, without sudo (facts, checks). */
  runAsUser(command: string, options?: RunOptions): Promise<ExecResult>;
  /** Copies a local file to a path on the host that the SSH user can write (e.g. under /tmp). */
  upload(localFile: string, remotePath: string): Promise<void>;
  /** A byte stream to the agent's unix socket. */
  openAgentStream(socketPath: string, dialCommand: string): Promise<Duplex>;
  close(): void;
}

const RUN_TIMEOUT_MS = 60_000;

export class SshLink implements HostLink {
  readonly kind = "ssh";
  /** Set once the server refuses stream-local forwarding; later calls go straight to dial-stdio. */
  private forwardingRefused = false;

  constructor(
    readonly client: Client,
    private readonly username: string,
  ) {}

  private asRoot(command: string): string {
    return this.username === "root" ? command : `sudo -n sh -c ${shellQuote(command)}`;
  }

  run(command: string, o: RunOptions = {}): Promise<ExecResult> {
    return execSsh(this.client, this.asRoot(command), { timeoutMs: o.timeoutMs ?? RUN_TIMEOUT_MS, stdin: o.stdin });
  }

  /** Runs as the SSH user, without sudo (for facts that should describe that user). */
  runAsUser(command: string, o: RunOptions = {}): Promise<ExecResult> {
    return execSsh(this.client, command, { timeoutMs: o.timeoutMs ?? RUN_TIMEOUT_MS, stdin: o.stdin });
  }

  upload(localFile: string, remotePath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) return reject(new FleetError("INSTALL_FAILED", `The host refused SFTP: ${err.message}`));
        const out = sftp.createWriteStream(remotePath, { mode: 0o600 });
        pipeline(createReadStream(localFile), out).then(
          () => {
            sftp.end();
            resolve();
          },
          (e: Error) => {
            sftp.end();
            reject(new FleetError("INSTALL_FAILED", `Uploading to ${remotePath} failed: ${e.message}`));
          },
        );
      });
    });
  }

  async openAgentStream(socketPath: string, dialCommand: string): Promise<Duplex> {
    if (!this.forwardingRefused && this.username === "root") {
      try {
        return await new Promise<Duplex>((resolve, reject) =>
          this.client.openssh_forwardOutStreamLocal(socketPath, (err, channel) => (err ? reject(err) : resolve(channel))),
        );
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        // OpenSSH answers "open failed" both when it forbids forwarding and when nothing listens on
        // the socket. If the socket is there, forwarding is what failed: use dial-stdio from now on.
        const probe = await this.run(`test -S ${shellQuote(socketPath)}`, { timeoutMs: 10_000 });
        if (probe.code !== 0) {
          throw new FleetError("AGENT_UNREACHABLE", `The agent is not running: its socket ${socketPath} does not exist (${message}).`);
        }
        this.forwardingRefused = true;
      }
    }
    return new Promise<Duplex>((resolve, reject) =>
      this.client.exec(this.asRoot(dialCommand), (err, channel) => {
        if (err) return reject(new FleetError("AGENT_UNREACHABLE", `Could not start dial-stdio on the host: ${err.message}`));
        resolve(channel);
      }),
    );
  }

  get usesDialStdio(): boolean {
    return this.forwardingRefused || this.username !== "root";
  }

  close(): void {
    this.client.end();
  }
}

/** "This machine": commands run here, files are copied, the socket is opened directly. */
export class LocalLink implements HostLink {
  readonly kind = "local";

  run(command: string, o: RunOptions = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = execFile("sh", ["-c", command], { timeout: o.timeoutMs ?? RUN_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      if (o.stdin !== undefined) child.stdin?.end(o.stdin);
      else child.stdin?.end();
    });
  }

  runAsUser(command: string, o: RunOptions = {}): Promise<ExecResult> {
    return this.run(command, o);
  }

  async upload(localFile: string, remotePath: string): Promise<void> {
    await copyFile(localFile, remotePath);
  }

  openAgentStream(socketPath: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once("connect", () => resolve(socket));
      socket.once("error", (e) => reject(new FleetError("AGENT_UNREACHABLE", `The local agent's socket ${socketPath} is not answering: ${e.message}`)));
    });
  }

  close(): void {}
}

