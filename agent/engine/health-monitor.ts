import type { ContainerRecord } from "./container-store";
import { type HealthSettings, type HealthState, healthSettings, nextProbeDelay, type ProbeResult, timeoutOutput } from "./health";
import type { ProbeRunner, ProbeTarget } from "./health-probe";
import { type LongTimeout, setLongTimeout } from "./long-timeout";

// The health monitors: one per running container that has a health check,
// probing it on dockerd's schedule (health.ts) until the container stops or
// pauses (dockerd's monitor goroutine in daemon/health.go). The engine
// arms a monitor when a container starts, unpauses or is re-adopted by a
// restarted agent, disarms it when the container exits or pauses, and keeps
// the results in the container's record (record()). At most one monitor per
// container, and a result from a monitor that has been disarmed is dropped.

/** What a monitor needs of the engine. */
export interface HealthHost {
  /** The container to probe now; undefined when it is gone. */
  target(id: string): ProbeTarget | undefined;
  /**
   * Records a probe's result in the container's health (under its lock),
   * unless `monitor` is no longer the container's; the health after it, or
   * undefined when the result didn't count.
   */
  record(id: string, result: ProbeResult, monitor: HealthMonitor): Promise<HealthState | undefined>;
  /** A failure of the agent's own (e.g. the record could not be saved): for its log. */
  fault(id: string, e: unknown): void;
}

export class HealthMonitor {
  private timer: LongTimeout | null = null;
  private probing: AbortController | null = null;
  private stopped = false;

  constructor(
    readonly containerId: string,
    private readonly settings: HealthSettings,
    private readonly startedAtMs: number,
    private readonly runner: ProbeRunner,
    private readonly host: HealthHost,
  ) {}

  /** The first probe comes one interval after the container started (or, re-armed, after now). */
  begin(status: HealthState["Status"] | undefined): void {
    this.schedule(nextProbeDelay(this.settings, this.startedAtMs, Date.now(), status));
  }

  /** No more probes; one in flight is killed and its result dropped. */
  stop(): void {
    this.stopped = true;
    this.timer?.clear();
    this.timer = null;
    this.probing?.abort();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setLongTimeout(() => {
      this.timer = null;
      void this.probe();
    }, delayMs);
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    const target = this.host.target(this.containerId);
    if (!target) return;
    const abort = new AbortController();
    this.probing = abort;
    const start = new Date();
    let health: HealthState | undefined;
    try {
      const outcome = await this.runner.run(target, this.settings.command, { timeoutMs: this.settings.timeoutMs, signal: abort.signal });
      if (this.stopped) return;
      const result: ProbeResult = {
        Start: start.toISOString(),
        End: new Date().toISOString(),
        ExitCode: outcome.exitCode,
        Output: outcome.timedOut ? timeoutOutput(this.settings, outcome.output) : outcome.output,
      };
      health = await this.host.record(this.containerId, result, this);
      if (!health) return;
    } catch (e) {
      this.host.fault(this.containerId, e);
    } finally {
      this.probing = null;
    }
    this.schedule(nextProbeDelay(this.settings, this.startedAtMs, Date.now(), health?.Status));
  }
}

export class HealthMonitors {
  private readonly monitors = new Map<string, HealthMonitor>();

  constructor(
    private readonly runner: ProbeRunner,
    private readonly host: HealthHost,
  ) {}

  /** Starts probing a running container, if it has a health check and isn't being probed already. */
  arm(record: ContainerRecord): void {
    if (this.monitors.has(record.id)) return;
    const settings = healthSettings(record.config.Healthcheck);
    if (!settings) return;
    const monitor = new HealthMonitor(record.id, settings, Date.parse(record.state.startedAt) || Date.now(), this.runner, this.host);
    this.monitors.set(record.id, monitor);
    monitor.begin(record.state.health?.Status);
  }

  /** Stops probing the container; whether it was being probed. */
  disarm(id: string): boolean {
    const monitor = this.monitors.get(id);
    if (!monitor) return false;
    monitor.stop();
    this.monitors.delete(id);
    return true;
  }

  /** Whether `monitor` is the container's current monitor (its results still count). */
  isCurrent(id: string, monitor: HealthMonitor): boolean {
    return this.monitors.get(id) === monitor;
  }

  /** The agent is stopping: no more probes (the containers keep running; the next agent re-arms them). */
  closeAll(): void {
    for (const monitor of this.monitors.values()) monitor.stop();
    this.monitors.clear();
  }
}
