import "server-only";
import { EventEmitter } from "node:events";
import { AgentClient } from "./agent/client";
import { agentPath, commandLine, type AgentConfig } from "./agent-config";
import { backoffDelay } from "./backoff";
import { FleetError, isFleetError } from "./errors";
import { LocalLink, SshLink, type HostLink } from "./link";
import { connectSsh } from "./ssh/connect";
import type { SshTarget } from "./ssh/target";

// One live connection per host. It connects, keeps the link alive with SSH
// keepalives, and reconnects with exponential backoff and jitter when the link
// drops. Callers never wait for a reconnect: when the host is down they get
// an UNREACHABLE error at once and show the last known state.
//
// A host that presents another key than the pinned one is refused before any
// credential is sent (connectSsh checks the key during the handshake), and
// then checked again slowly, in the same way: when the pinned key comes back
// (a restored backup, a failover undone) the host reconnects by itself.

export type LinkState = "connecting" | "connected" | "unreachable" | "hostKeyChanged" | "authFailed" | "stopped";

export interface ConnectionTiming {
  connectTimeoutMs: number;
  keepaliveMs: number;
  keepaliveCountMax: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How often a host whose key changed is checked again for the pinned key (50–100 % of this, jittered). */
  keyChangedRetryMs: number;
}

export const DEFAULT_TIMING: ConnectionTiming = {
  connectTimeoutMs: 10_000,
  keepaliveMs: 3_000,
  keepaliveCountMax: 2,
  backoffBaseMs: 500,
  backoffMaxMs: 15_000,
  keyChangedRetryMs: 30_000,
};

export interface ConnectionTarget {
  hostId: string;
  name: string;
  agent: AgentConfig;
  /** Absent for "this machine". */
  ssh?: SshTarget & { pinned: string };
}

export interface StateChange {
  state: LinkState;
  message: string | null;
  presentedFingerprint?: string;
  /** The state before this change. */
  previous?: LinkState;
}

export class HostConnection extends EventEmitter<{ state: [StateChange] }> {
  state: LinkState = "connecting";
  message: string | null = null;
  private link: HostLink | null = null;
  /** Failed attempts in a row, for the backoff. */
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** An attempt in flight: a second one (retryNow) would only race it. */
  private attempting = false;
  readonly client: AgentClient;

  constructor(
    readonly target: ConnectionTarget,
    private readonly timing: ConnectionTiming = DEFAULT_TIMING,
  ) {
    super();
    this.client = new AgentClient(() => this.openAgentStream(), target.name);
  }

  /** A byte stream to the agent's socket over the live link. */
  openAgentStream() {
    const agent = this.target.agent;
    return this.requireLink().openAgentStream(agent.socket, commandLine(["node", agentPath(agent), "dial-stdio", "--socket", agent.socket]));
  }

  start(): void {
    void this.connect();
  }

  /** Waits (bounded) while the first connection attempt is still in flight; right after adding a host, say. */
  async settled(timeoutMs = this.timing.connectTimeoutMs + 1_000): Promise<void> {
    if (this.state !== "connecting") return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off("state", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.once("state", done);
    });
  }

  /** The link when connected; otherwise an immediate UNREACHABLE (no waiting). */
  requireLink(): HostLink {
    if (this.link && this.state === "connected") return this.link;
    throw new FleetError(this.state === "hostKeyChanged" ? "HOST_KEY_CHANGED" : "UNREACHABLE", `${this.target.name} is ${describe(this.state)}${this.message ? `: ${this.message}` : ""}.`);
  }

  /** Tries now instead of at the next scheduled attempt (a user asked); nothing while connected or trying. */
  retryNow(): void {
    if (this.stopped || this.attempting || this.state === "connected") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.connect();
  }

  private setState(change: StateChange): void {
    const same = change.state === this.state && change.message === this.message;
    const previous = this.state;
    this.state = change.state;
    this.message = change.message;
    if (!same) this.emit("state", { ...change, previous });
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.attempting) return;
    this.attempting = true;
    try {
      await this.attempt();
    } finally {
      this.attempting = false;
    }
  }

  private async attempt(): Promise<void> {
    if (!this.target.ssh) {
      this.link = new LocalLink();
      this.setState({ state: "connected", message: null });
      return;
    }
    try {
      const session = await connectSsh(this.target.ssh, {
        pinned: this.target.ssh.pinned,
        timeoutMs: this.timing.connectTimeoutMs,
        keepaliveMs: this.timing.keepaliveMs,
        keepaliveCountMax: this.timing.keepaliveCountMax,
      });
      if (this.stopped) return void session.client.end();
      const link = new SshLink(session.client, this.target.ssh.username);
      session.client.on("error", () => {});
      session.client.once("close", () => this.lost(link));
      this.link = link;
      this.failures = 0;
      this.setState({ state: "connected", message: null });
    } catch (e) {
      const err = isFleetError(e) ? e : new FleetError("UNREACHABLE", e instanceof Error ? e.message : String(e));
      if (err.code === "HOST_KEY_CHANGED") {
        // Refused, and checked again slowly: a re-pin replaces this connection, the pinned key coming back ends it here.
        this.setState({ state: "hostKeyChanged", message: err.message, presentedFingerprint: err.details.presentedFingerprint });
        this.schedule(backoffDelay(0, this.timing.keyChangedRetryMs, this.timing.keyChangedRetryMs));
        return;
      }
      if (err.code === "AUTH_REFUSED" || err.code === "BAD_CREDENTIAL") {
        this.setState({ state: "authFailed", message: err.message });
        return;
      }
      if (this.state === "hostKeyChanged") {
        // Down while its key is in doubt: the warning stays up (a reboot doesn't settle the question), and so does the slow check.
        this.schedule(backoffDelay(0, this.timing.keyChangedRetryMs, this.timing.keyChangedRetryMs));
        return;
      }
      this.setState({ state: "unreachable", message: err.message });
      this.schedule();
    }
  }

  private lost(link: HostLink): void {
    if (this.link !== link) return;
    this.link = null;
    if (this.stopped) return;
    this.setState({ state: "unreachable", message: "the SSH connection dropped (no keepalive answer)" });
    this.schedule();
  }

  private schedule(delay?: number): void {
    if (this.stopped || this.timer) return;
    const wait = delay ?? backoffDelay(this.failures++, this.timing.backoffBaseMs, this.timing.backoffMaxMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const link = this.link;
    this.link = null;
    link?.close();
    this.setState({ state: "stopped", message: null });
    this.removeAllListeners();
  }
}

export function describe(state: LinkState): string {
  switch (state) {
    case "connected":
      return "connected";
    case "connecting":
      return "connecting";
    case "unreachable":
      return "unreachable";
    case "hostKeyChanged":
      return "refused: its host key changed";
    case "authFailed":
      return "refusing our credentials";
    case "stopped":
      return "disconnected";
  }
}
