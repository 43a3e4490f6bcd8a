import "server-only";
import { EventEmitter } from "node:events";
import { stat } from "node:fs/promises";
import { emitSignal } from "../alerts/signals";
import { writeAudit } from "../audit/write";
import { SYSTEM_ACTOR } from "../audit/types";
import type { Db } from "../db";
import type { SecretBox } from "../secrets/cipher";
import { AgentClient } from "./agent/client";
import type { AgentEvent, ContainerSummary } from "./agent/types";
import { agentConfigOf } from "./agent-config";
import { openCredential } from "./credentials";
import { FleetError } from "./errors";
import { DEFAULT_TIMING, HostConnection, type ConnectionTarget, type ConnectionTiming, type LinkState, type StateChange } from "./host-connection";
import { gatherFacts, sha256File } from "./install/installer";
import { LocalAgent } from "./local-agent";
import { noteLinkState } from "../metrics/registry";

// The gateway's view of its fleet: one HostConnection per host, the last known
// state of each (kept current from the agent's /events stream), and change
// notifications for the console's live subscriptions.

export interface HostSnapshot {
  hostId: string;
  state: LinkState | "pending";
  message: string | null;
  /** Whether the agent answered the last time we asked. */
  agent: "ok" | "missing" | "unknown";
  agentVersion: string | null;
  /** The last list we got; kept (and marked stale) while the host is unreachable. */
  containers: ContainerSummary[] | null;
  containersAt: Date | null;
  /** When the facts in the database were last refreshed. */
  factsAt: Date | null;
  /** Recent load and memory samples (oldest first), for the hosts list's sparklines. */
  samples: HostSample[];
  stale: boolean;
}

export interface HostSample {
  at: Date;
  load: number;
  /** Used memory as a fraction of the total (0–1). */
  memory: number;
}

const SAMPLE_SCRIPT = `cut -d' ' -f1 /proc/loadavg; awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t, a}' /proc/meminfo`;
const MAX_SAMPLES = 60;

export interface FleetOptions {
  db: Db;
  box: SecretBox;
  /** The agent bundle to install, and to run for "this machine". */
  bundle: string;
  timing?: Partial<ConnectionTiming>;
  /** How often to sample each host's load and memory (default 30 s). */
  sampleMs?: number;
  log?: (line: string) => void;
}

type HostRow = Awaited<ReturnType<Db["host"]["findMany"]>>[number];

const EVENT_RETRY_MS = 2_000;
const REFRESH_DEBOUNCE_MS = 150;

/** A step of an agent install or upgrade in progress, for the console's progress display. */
export interface InstallProgress {
  hostId: string;
  step: "check" | "packages" | "upload" | "start" | "confirm";
  detail: string;
  at: Date;
}

/** Progress of a long operation (deploy, pull, push) a user started, keyed by user and a token the console chose. */
export interface OperationProgress {
  key: string;
  phase: "pull" | "create" | "start" | "verify" | "rollback" | "push" | "done" | "error";
  message: string;
  /** Pull/push progress of one layer, as the agent reports it. */
  layer?: { id: string; status: string; current?: number; total?: number };
  /** The stack service this step concerns (stack apply). */
  service?: string;
}

export class Fleet extends EventEmitter<{ change: [HostSnapshot]; install: [InstallProgress]; progress: [OperationProgress] }> {
  private readonly connections = new Map<string, HostConnection>();
  private readonly snapshots = new Map<string, HostSnapshot>();
  private readonly watchers = new Map<string, AbortController>();
  private readonly localAgents = new Map<string, LocalAgent>();
  private readonly clients = new Map<string, AgentClient>();
  private readonly timing: ConnectionTiming;
  private readonly log: (line: string) => void;

  constructor(private readonly o: FleetOptions) {
    super();
    this.setMaxListeners(0);
    this.timing = { ...DEFAULT_TIMING, ...o.timing };
    this.log = o.log ?? (() => {});
  }

  get bundle(): string {
    return this.o.bundle;
  }

  private bundleHash: { mtimeMs: number; sha256: string } | null = null;

  /** SHA-256 of the bundle hosts should run (recomputed when the file changes). */
  async bundleSha256(): Promise<string | null> {
    try {
      const { mtimeMs } = await stat(this.o.bundle);
      if (this.bundleHash?.mtimeMs !== mtimeMs) this.bundleHash = { mtimeMs, sha256: await sha256File(this.o.bundle) };
      return this.bundleHash.sha256;
    } catch {
      return null;
    }
  }

  async start(): Promise<void> {
    const hosts = await this.o.db.host.findMany();
    await Promise.all(hosts.map((h) => this.sync(h.id).catch((e: unknown) => this.log(`${h.name}: ${e instanceof Error ? e.message : String(e)}`))));
  }

  /** Per host, one sync at a time: two racing syncs must not leave an orphaned connection behind. */
  private readonly syncing = new Map<string, Promise<void>>();

  /** Re-reads a host's record and replaces its connection (after add, re-pin, credential change or removal). */
  sync(hostId: string): Promise<void> {
    const previous = this.syncing.get(hostId) ?? Promise.resolve();
    const next = previous.then(async () => {
      await this.detach(hostId);
      const host = await this.o.db.host.findUnique({ where: { id: hostId } });
      if (host) await this.attach(host);
    });
    const settled = next.catch(() => undefined);
    this.syncing.set(hostId, settled);
    void settled.then(() => {
      if (this.syncing.get(hostId) === settled) this.syncing.delete(hostId);
    });
    return next;
  }

  connection(hostId: string): HostConnection {
    const c = this.connections.get(hostId);
    if (!c) throw new FleetError("UNREACHABLE", "The host is not connected yet: confirm its host key first.");
    return c;
  }

  /**
   * The host's agent client. It outlives reconnects and re-pins: each call
   * goes through whichever connection is current.
   */
  client(hostId: string): AgentClient {
    let client = this.clients.get(hostId);
    if (!client) {
      client = new AgentClient(() => this.connection(hostId).openAgentStream(), this.connections.get(hostId)?.target.name ?? hostId);
      this.clients.set(hostId, client);
    }
    return client;
  }

  reportProgress(p: OperationProgress): void {
    this.emit("progress", p);
  }

  reportInstall(hostId: string, step: InstallProgress["step"], detail: string): void {
    this.emit("install", { hostId, step, detail, at: new Date() });
  }

  localAgent(hostId: string): LocalAgent | undefined {
    return this.localAgents.get(hostId);
  }

  snapshot(hostId: string): HostSnapshot {
    return (
      this.snapshots.get(hostId) ?? {
        hostId,
        state: "pending",
        message: null,
        agent: "unknown",
        agentVersion: null,
        containers: null,
        containersAt: null,
        factsAt: null,
        samples: [],
        stale: true,
      }
    );
  }

  private update(hostId: string, patch: Partial<HostSnapshot>): void {
    const before = this.snapshot(hostId);
    const next = { ...before, ...patch };
    if (patch.agent && patch.agent !== "unknown" && patch.agent !== before.agent && next.state === "connected") {
      emitSignal({ type: "agent.health", hostId, ok: patch.agent === "ok", message: patch.agent === "ok" ? null : (next.message ?? "the agent does not answer"), at: new Date() });
    }
    next.stale = next.state !== "connected" || next.agent !== "ok";
    this.snapshots.set(hostId, next);
    this.emit("change", next);
  }

  private target(host: HostRow): ConnectionTarget | null {
    const agent = agentConfigOf(host.agentConfig);
    if (host.transport === "local") return { hostId: host.id, name: host.name, agent };
    if (!host.hostKeyFingerprint || !host.credential) return null;
    return {
      hostId: host.id,
      name: host.name,
      agent,
      ssh: {
        address: host.address,
        port: host.port,
        username: host.username,
        auth: openCredential(this.o.box, host.credential),
        pinned: host.hostKeyFingerprint,
      },
    };
  }

  private async attach(host: HostRow): Promise<void> {
    await this.detach(host.id);
    let target: ConnectionTarget | null;
    try {
      target = this.target(host);
    } catch (e) {
      // One unreadable credential must not take the fleet down: that host shows why, the rest connect.
      const message = `The stored credential can't be opened (was BERTH_SECRET_KEY changed?): ${e instanceof Error ? e.message : String(e)}`;
      this.update(host.id, { state: "authFailed", message });
      await this.o.db.host.update({ where: { id: host.id }, data: { status: "authFailed", statusMessage: message } }).catch(() => undefined);
      return;
    }
    if (!target) return;
    if (host.transport === "local") {
      const local = new LocalAgent(this.o.bundle, target.agent, (l) => this.log(`[${host.name}] ${l}`));
      this.localAgents.set(host.id, local);
      await local.start();
    }
    const connection = new HostConnection(target, this.timing);
    this.connections.set(host.id, connection);
    connection.on("state", (change) => void this.onState(host.id, connection, change));
    this.update(host.id, { state: "connecting", message: null });
    connection.start();
  }

  private async detach(hostId: string): Promise<void> {
    this.watchers.get(hostId)?.abort();
    this.watchers.delete(hostId);
    this.connections.get(hostId)?.stop();
    this.connections.delete(hostId);
    await this.localAgents.get(hostId)?.stop();
    this.localAgents.delete(hostId);
  }

  /** Checks the host again now rather than at its next scheduled attempt (a user asked for it). */
  retryNow(hostId: string): void {
    this.connections.get(hostId)?.retryNow();
  }

  private async onState(hostId: string, connection: HostConnection, change: StateChange): Promise<void> {
    if (change.state === "stopped" || this.connections.get(hostId) !== connection) return;
    noteLinkState(hostId, change.state, change.previous);
    this.logKeyChange(connection, change);
    // Saved before it is announced: a console re-reading the host on this event sees the new key and times.
    await this.persist(hostId, change);
    // A connection replaced (or a newer state) while saving must not overwrite what is current.
    if (this.connections.get(hostId) !== connection || connection.state !== change.state) return;
    this.update(hostId, { state: change.state, message: change.message });
    emitSignal({ type: "host.status", hostId, status: change.state === "connecting" ? "pending" : change.state, message: change.message, at: new Date() });
    if (change.state === "connected") {
      this.watchers.get(hostId)?.abort();
      const controller = new AbortController();
      this.watchers.set(hostId, controller);
      void this.watch(hostId, connection, controller.signal);
    } else {
      this.watchers.get(hostId)?.abort();
      this.watchers.delete(hostId);
    }
  }

  /** The operator's record, whatever the database does: a refused key names both fingerprints. */
  private logKeyChange(connection: HostConnection, change: StateChange): void {
    const { name, ssh } = connection.target;
    if (!ssh) return;
    const where = `${name} (${ssh.address}:${ssh.port})`;
    if (change.state === "hostKeyChanged") {
      const every = Math.round(this.timing.keyChangedRetryMs / 1000);
      this.log(
        `${where}: host key changed: presented ${change.presentedFingerprint ?? "an unknown key"}, pinned ${ssh.pinned}; connection refused before authentication (checking again every ${Math.round(every / 2)}–${every} s)`,
      );
    } else if (change.state === "connected" && change.previous === "hostKeyChanged") {
      this.log(`${where}: presents the pinned host key ${ssh.pinned} again; connected`);
    }
  }

  private async persist(hostId: string, change: StateChange): Promise<void> {
    const db = this.o.db;
    const status = change.state === "connecting" || change.state === "stopped" ? "pending" : change.state;
    try {
      const before = await db.host.findUnique({ where: { id: hostId }, select: { status: true, presentedFingerprint: true, hostKeyFingerprint: true } });
      if (!before) return;
      await db.host.update({
        where: { id: hostId },
        data: {
          status,
          statusMessage: change.message,
          // Connected means the pinned key was presented: any other key seen before is history.
          ...(change.state === "connected" ? { lastSeenAt: new Date(), presentedFingerprint: null } : {}),
          ...(change.presentedFingerprint ? { presentedFingerprint: change.presentedFingerprint } : {}),
        },
      });
      const alreadyKnown = before.status === "hostKeyChanged" && before.presentedFingerprint === change.presentedFingerprint;
      if (change.state === "hostKeyChanged" && !alreadyKnown) {
        await writeAudit(db, {
          actor: SYSTEM_ACTOR,
          action: "hosts.host_key_changed",
          outcome: "denied",
          target: { type: "host", id: hostId },
          hostId,
          params: { pinned: before.hostKeyFingerprint, presented: change.presentedFingerprint ?? null },
          errorMessage: change.message,
        });
      }
      if (change.state === "connected" && before.status === "hostKeyChanged") {
        await writeAudit(db, {
          actor: SYSTEM_ACTOR,
          action: "hosts.host_key_restored",
          outcome: "success",
          target: { type: "host", id: hostId },
          hostId,
          params: { pinned: before.hostKeyFingerprint, presentedBefore: before.presentedFingerprint },
        });
      }
    } catch (e) {
      this.log(`could not record ${hostId}'s state: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Facts once per connection, then the container list, kept current from /events until the link drops. */
  private async watch(hostId: string, connection: HostConnection, signal: AbortSignal): Promise<void> {
    const host = await this.o.db.host.findUnique({ where: { id: hostId }, select: { agentConfig: true } });
    if (!host || signal.aborted) return;
    try {
      const facts = await gatherFacts(connection.requireLink(), agentConfigOf(host.agentConfig));
      await this.o.db.host.update({ where: { id: hostId }, data: { facts, lastSeenAt: new Date() } });
      this.update(hostId, { factsAt: new Date() });
    } catch (e) {
      this.log(`facts for ${hostId}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const sample = async () => {
      try {
        const r = await connection.requireLink().runAsUser(SAMPLE_SCRIPT, { timeoutMs: 10_000 });
        const [loadLine = "", memLine = ""] = r.stdout.trim().split("\n");
        const [total, available] = memLine.trim().split(/\s+/).map(Number);
        const load = Number(loadLine);
        if (!Number.isFinite(load) || !total || available === undefined || !Number.isFinite(available)) return;
        const samples = [...this.snapshot(hostId).samples, { at: new Date(), load, memory: Math.max(0, Math.min(1, 1 - available / total)) }].slice(-MAX_SAMPLES);
        this.update(hostId, { samples });
      } catch {
        // A missed sample is a gap in the sparkline, nothing more.
      }
    };
    void sample();
    const sampler = setInterval(() => void sample(), this.o.sampleMs ?? 30_000);
    signal.addEventListener("abort", () => clearInterval(sampler), { once: true });
    let pending: NodeJS.Timeout | null = null;
    const refreshSoon = () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        void this.refresh(hostId, connection, signal);
      }, REFRESH_DEBOUNCE_MS);
    };
    while (!signal.aborted && connection.state === "connected") {
      try {
        const version = await connection.client.version({ signal, timeoutMs: 5_000 });
        if (this.snapshot(hostId).agentVersion !== version.Version) {
          await this.o.db.host.update({ where: { id: hostId }, data: { agentVersion: version.Version } }).catch(() => undefined);
        }
        this.update(hostId, { agent: "ok", agentVersion: version.Version });
        await this.refresh(hostId, connection, signal);
        for await (const event of connection.client.events({ signal, timeoutMs: 5_000 })) {
          if (event.Type === "container") {
            refreshSoon();
            emitSignal(containerSignal(hostId, event));
          }
        }
      } catch (e) {
        if (signal.aborted) break;
        const message = e instanceof Error ? e.message : String(e);
        if (connection.state === "connected") this.update(hostId, { agent: "missing", message });
      }
      await new Promise((r) => setTimeout(r, EVENT_RETRY_MS));
    }
    if (pending) clearTimeout(pending);
    clearInterval(sampler);
  }

  private async refresh(hostId: string, connection: HostConnection, signal: AbortSignal): Promise<void> {
    try {
      const containers = await connection.client.containers({ all: true, signal, timeoutMs: 10_000 });
      this.update(hostId, { containers, containersAt: new Date(), agent: "ok" });
    } catch {
      // The event loop notices a dead agent; a failed refresh keeps the last list.
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.connections.keys()].map((id) => this.detach(id)));
  }
}

const EVENT_ATTRIBUTES = new Set(["name", "image", "exitCode", "oldName", "signal"]);

/** A container event as the alert evaluator hears it: the container's labels are the event's other attributes. */
function containerSignal(hostId: string, event: AgentEvent) {
  const attributes = event.Actor.Attributes ?? {};
  const labels = Object.fromEntries(Object.entries(attributes).filter(([k]) => !EVENT_ATTRIBUTES.has(k)));
  const exitCode = attributes.exitCode !== undefined && /^-?\d+$/.test(attributes.exitCode) ? Number(attributes.exitCode) : null;
  // When the gateway heard it (the evaluator's clock; a host's may be off).
  const at = new Date();
  return { type: "container.event" as const, hostId, containerId: event.Actor.ID, name: (attributes.name ?? event.Actor.ID).replace(/^\//, ""), labels, action: event.Action, exitCode, at };
}
