import { healthcheckSchema } from "../../lib/docker/create-request";
import { formatGoDuration } from "../../lib/deploy/docker-run/units";

// Health checks as dockerd runs them (moby daemon/health.go), the pure part:
// what a container's health check is once defaults are filled in, when the
// next probe is due, and what a probe's result does to the container's
// health. health-monitor.ts runs the probes on this; the engine keeps the
// state in the container's record, so it survives an agent restart.

export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One probe, as `docker inspect` shows it in State.Health.Log. */
export interface ProbeResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** State.Health: the status, the consecutive failures, the last results (oldest first). */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: ProbeResult[];
}

/** What the `health` filter of containers/json compares: a container never started with a check is "none". */
export const HEALTH_FILTER_VALUES = ["starting", "healthy", "unhealthy", "none"] as const;

// dockerd's defaults and limits.
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
export const MAX_LOG_ENTRIES = 5;
/** A probe's output beyond this many bytes is dropped, and "..." marks the cut. */
export const MAX_OUTPUT_BYTES = 4096;

/** A container's health check with dockerd's defaults filled in; `command` is what runs in the container. */
export interface HealthSettings {
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
  /** The timeout as Go prints a duration ("30s", "1.5s"): dockerd's message names it so. */
  timeoutText: string;
}

const SHELL = ["/bin/sh", "-c"];

/**
 * The check a container's Config.Healthcheck asks for (the image's merged
 * with the request's at create), or null when there is none: no config, an
 * empty test (nothing to inherit any more), NONE, or a type dockerd doesn't
 * know (it ignores those too). CMD runs its arguments directly, CMD-SHELL
 * through /bin/sh -c.
 */
export function healthSettings(config: unknown): HealthSettings | null {
  const parsed = healthcheckSchema.safeParse(config);
  if (!parsed.success) return null;
  const hc = parsed.data;
  const test = hc.Test ?? [];
  let command: string[];
  if (test[0] === "CMD") command = test.slice(1);
  else if (test[0] === "CMD-SHELL") command = [...SHELL, ...test.slice(1)];
  else return null;
  if (command.length === 0) return null;
  const ms = (ns: number | undefined, fallback: number) => (ns && ns > 0 ? ns / 1e6 : fallback);
  const timeoutMs = ms(hc.Timeout, DEFAULT_TIMEOUT_MS);
  return {
    command,
    intervalMs: ms(hc.Interval, DEFAULT_INTERVAL_MS),
    timeoutMs,
    startPeriodMs: ms(hc.StartPeriod, 0),
    startIntervalMs: ms(hc.StartInterval, DEFAULT_START_INTERVAL_MS),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES,
    timeoutText: formatGoDuration(timeoutMs / 1000),
  };
}

/** At every start and restart: starting, no failures; the log of earlier runs is kept, as dockerd keeps it. */
export function startingHealth(previous?: HealthState): HealthState {
  return { Status: "starting", FailingStreak: 0, Log: previous?.Log ?? [] };
}

/**
 * The monitor stopped (the container exited or was paused): dockerd marks it
 * unhealthy "for compatibility reasons", without an event, until a probe
 * after an unpause says otherwise or a start resets it to starting.
 */
export function monitorStopped(state: HealthState): HealthState {
  return { ...state, Status: "unhealthy" };
}

/**
 * A probe's result applied to the health (handleProbeResult): a success makes
 * it healthy and clears the streak; a failure adds to the streak, and at
 * `retries` failures in a row it is unhealthy — except while it is still
 * starting within the start period, when failures don't count.
 */
export function applyProbeResult(state: HealthState, result: ProbeResult, settings: HealthSettings, startedAtMs: number): HealthState {
  const Log = [...state.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: "healthy", FailingStreak: 0, Log };
  const inStartPeriod = state.Status === "starting" && Date.parse(result.Start) - startedAtMs < settings.startPeriodMs;
  if (inStartPeriod) return { ...state, Log };
  const FailingStreak = state.FailingStreak + 1;
  return { Status: FailingStreak >= settings.retries ? "unhealthy" : state.Status, FailingStreak, Log };
}

/**
 * How long until the next probe, counted from the end of the last one (or
 * from arming): the interval; during the start period, no later than its
 * end, and every start interval while still starting.
 */
export function nextProbeDelay(settings: HealthSettings, startedAtMs: number, nowMs: number, status: HealthStatus | undefined): number {
  const elapsed = nowMs - startedAtMs;
  if (elapsed >= settings.startPeriodMs) return settings.intervalMs;
  const remaining = settings.startPeriodMs - elapsed;
  if (remaining < settings.intervalMs) return remaining;
  return status === "starting" ? settings.startIntervalMs : settings.intervalMs;
}

/** The message of a probe that ran past its timeout, with what it printed until then. */
export function timeoutOutput(settings: HealthSettings, output: string): string {
  return output ? `Health check exceeded timeout (${settings.timeoutText}): ${output}` : `Health check exceeded timeout (${settings.timeoutText})`;
}

/** Collects up to MAX_OUTPUT_BYTES of a probe's stdout and stderr; what doesn't fit is dropped and marked "...". */
export class LimitedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const room = MAX_OUTPUT_BYTES - this.size;
    if (room > 0) {
      const part = data.length > room ? data.subarray(0, room) : data;
      this.chunks.push(Buffer.from(part));
      this.size += part.length;
    }
    if (data.length > room) this.truncated = true;
  }

  text(): string {
    const out = Buffer.concat(this.chunks).toString("utf8");
    return this.truncated ? `${out}...` : out;
  }
}
