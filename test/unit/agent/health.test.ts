import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseCreateRequest } from "../../../lib/docker/create-request";
import type { ContainerRecord } from "../../../agent/engine/container-store";
import {
  applyProbeResult,
  type HealthSettings,
  type HealthState,
  healthSettings,
  LimitedOutput,
  MAX_OUTPUT_BYTES,
  nextProbeDelay,
  type ProbeResult,
  startingHealth,
} from "../../../agent/engine/health";
import { type HealthMonitor, HealthMonitors } from "../../../agent/engine/health-monitor";
import type { ProbeOutcome, ProbeRunner } from "../../../agent/engine/health-probe";
import { mergeContainerConfig } from "../../../agent/engine/merge-config";

// Health checks as dockerd runs them: the check a container ends up with
// (the image's merged with the request's, dockerd's defaults filled in), and
// the state machine driven by a fake probe runner on vitest's fake clock, so
// a schedule of 30 s intervals is observed in virtual time. What is asserted
// is what `docker inspect` would show: State.Health.

const S = 1_000_000_000; // a second in nanoseconds, as Docker's API counts

describe("the health check a container gets", () => {
  const image = { Cmd: ["serve"], Healthcheck: { Test: ["CMD-SHELL", "curl -f localhost"], Interval: 10 * S, Timeout: 3 * S, Retries: 5 } };
  const merged = (request: object) => mergeContainerConfig(image, parseCreateRequest({ Image: "app", ...request })).Healthcheck;

  it("is the image's when the request has none, with dockerd's defaults for what neither sets", () => {
    const hc = merged({});
    expect(hc).toEqual(image.Healthcheck);
    expect(healthSettings(hc)).toEqual({
      command: ["/bin/sh", "-c", "curl -f localhost"],
      intervalMs: 10_000,
      timeoutMs: 3_000,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      retries: 5,
      timeoutText: "3s",
    });
  });

  it("takes each field the request sets (--health-cmd, --health-interval, …) and the image's for the rest", () => {
    const hc = merged({ Healthcheck: { Test: ["CMD", "/bin/check", "--quick"], Interval: 1 * S, StartPeriod: 90 * S } });
    expect(hc).toEqual({ Test: ["CMD", "/bin/check", "--quick"], Interval: 1 * S, Timeout: 3 * S, StartPeriod: 90 * S, Retries: 5 });
    // CMD runs the command itself, no shell.
    expect(healthSettings(hc)).toMatchObject({ command: ["/bin/check", "--quick"], intervalMs: 1_000, startPeriodMs: 90_000, retries: 5 });
    // Only --health-interval: the image's test still runs, on the new interval.
    expect(merged({ Healthcheck: { Interval: 2 * S } })).toMatchObject({ Test: image.Healthcheck.Test, Interval: 2 * S });
  });

  it("is none with --no-healthcheck (Test NONE), with no check anywhere, or an empty or unknown test", () => {
    expect(merged({ Healthcheck: { Test: ["NONE"] } })?.Test).toEqual(["NONE"]);
    expect(healthSettings(merged({ Healthcheck: { Test: ["NONE"] } }))).toBeNull();
    expect(healthSettings(mergeContainerConfig({ Cmd: ["serve"] }, parseCreateRequest({ Image: "app" })).Healthcheck)).toBeNull();
    expect(healthSettings({ Test: [] })).toBeNull();
    expect(healthSettings({ Test: ["CMD"] })).toBeNull();
    expect(healthSettings({ Test: ["HTTP", "/health"] })).toBeNull();
    expect(healthSettings({ Test: "CMD true" })).toBeNull();
  });

  it("fills dockerd's defaults: every 30 s, 30 s timeout, 3 retries, no start period, start interval 5 s", () => {
    expect(healthSettings({ Test: ["CMD-SHELL", "true"] })).toEqual({
      command: ["/bin/sh", "-c", "true"],
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      retries: 3,
      timeoutText: "30s",
    });
    expect(healthSettings({ Test: ["CMD-SHELL", "true"], Timeout: 1.5 * S })?.timeoutText).toBe("1.5s");
    expect(healthSettings({ Test: ["CMD-SHELL", "true"], Timeout: 90 * S })?.timeoutText).toBe("1m30s");
  });
});

describe("what a probe's result does", () => {
  const settings = healthSettings({ Test: ["CMD", "check"], Interval: 1 * S, Retries: 2, StartPeriod: 10 * S })!;
  const started = Date.parse("2030-01-01T00:00:00Z");
  const at = (seconds: number, exitCode: number): ProbeResult => ({
    Start: new Date(started + seconds * 1000).toISOString(),
    End: new Date(started + seconds * 1000 + 50).toISOString(),
    ExitCode: exitCode,
    Output: `probe at ${seconds}s\n`,
  });
  const run = (results: ProbeResult[], from: HealthState = startingHealth()) => results.reduce((h, r) => applyProbeResult(h, r, settings, started), from);

  it("failures in the start period don't count while it is starting; a success ends the start period", () => {
    const starting = run([at(1, 1), at(2, 1), at(3, 1)]);
    expect(starting).toMatchObject({ Status: "starting", FailingStreak: 0 });
    expect(starting.Log.map((r) => r.ExitCode)).toEqual([1, 1, 1]);
    // Healthy once: a failure counts from then on, even inside the start period.
    const after = run([at(4, 0), at(5, 1)], starting);
    expect(after).toMatchObject({ Status: "healthy", FailingStreak: 1 });
    expect(run([at(6, 1)], after)).toMatchObject({ Status: "unhealthy", FailingStreak: 2 });
  });

  it("after the start period, `retries` failures in a row make it unhealthy; a success makes it healthy again", () => {
    const one = run([at(11, 1)]);
    expect(one).toMatchObject({ Status: "starting", FailingStreak: 1 });
    const unhealthy = run([at(12, 1)], one);
    expect(unhealthy).toMatchObject({ Status: "unhealthy", FailingStreak: 2 });
    expect(run([at(13, 1)], unhealthy)).toMatchObject({ Status: "unhealthy", FailingStreak: 3 });
    expect(run([at(13, 0)], unhealthy)).toMatchObject({ Status: "healthy", FailingStreak: 0 });
  });

  it("keeps the last 5 results, oldest first", () => {
    const h = run([0, 1, 2, 3, 4, 5, 6].map((i) => at(11 + i, i % 2)));
    expect(h.Log.map((r) => r.Output)).toEqual([13, 14, 15, 16, 17].map((s) => `probe at ${s}s\n`));
  });

  it("a new start begins afresh (starting, no streak) and keeps the earlier log", () => {
    const unhealthy = run([at(11, 1), at(12, 1)]);
    expect(startingHealth(unhealthy)).toEqual({ Status: "starting", FailingStreak: 0, Log: unhealthy.Log });
  });
});

describe("when the next probe is due", () => {
  const started = 1_000_000;
  it("every interval after the start period; its end, or the start interval while starting, within it", () => {
    const s = healthSettings({ Test: ["CMD", "x"], Interval: 30 * S, StartPeriod: 60 * S, StartInterval: 2 * S })!;
    expect(nextProbeDelay(s, started, started, "starting")).toBe(2_000);
    expect(nextProbeDelay(s, started, started, "healthy")).toBe(30_000);
    // Less of the start period left than an interval: its end.
    expect(nextProbeDelay(s, started, started + 50_000, "healthy")).toBe(10_000);
    expect(nextProbeDelay(s, started, started + 60_000, "starting")).toBe(30_000);
    const plain = healthSettings({ Test: ["CMD", "x"] })!;
    expect(nextProbeDelay(plain, started, started, "starting")).toBe(30_000);
  });
});

describe("a probe's output", () => {
  it("is capped at 4096 bytes, the cut marked with ...", () => {
    const out = new LimitedOutput();
    out.write(Buffer.from("a".repeat(4000)));
    out.write(Buffer.from("b".repeat(200)));
    out.write(Buffer.from("c"));
    const text = out.text();
    expect(text).toBe(`${"a".repeat(4000)}${"b".repeat(MAX_OUTPUT_BYTES - 4000)}...`);
    const short = new LimitedOutput();
    short.write(Buffer.from("ok\n"));
    expect(short.text()).toBe("ok\n");
  });
});

// ---- the monitors, on the fake clock ----

/** A container's record as far as the monitors look at it. */
function container(healthcheck: object, startedAt: number): ContainerRecord {
  return {
    id: "c".repeat(64),
    config: { Healthcheck: healthcheck },
    state: { status: "running", startedAt: new Date(startedAt).toISOString() },
  } as unknown as ContainerRecord;
}

/** Probes that answer from a script (exit codes, or "hang" until killed), counting how many ran and how many were killed. */
class ScriptedRunner implements ProbeRunner {
  runs = 0;
  killed = 0;
  commands: string[][] = [];
  constructor(private readonly script: (n: number) => number | "hang") {}
  run(_t: unknown, command: string[], options: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome> {
    const n = ++this.runs;
    this.commands.push(command);
    const answer = this.script(n);
    if (answer !== "hang") return new Promise((resolve) => setTimeout(() => resolve({ exitCode: answer, output: `run ${n}\n`, timedOut: false }), 10));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.killed++;
        resolve({ exitCode: -1, output: "partial", timedOut: true });
      }, options.timeoutMs);
      options.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        this.killed++;
        resolve({ exitCode: 137, output: "", timedOut: false });
      });
    });
  }
}

/** The engine's side: the health in the record, results from a disarmed monitor dropped, transitions as events. */
function harness(record: ContainerRecord, runner: ScriptedRunner) {
  const transitions: string[] = [];
  const monitors: HealthMonitors = new HealthMonitors(runner, {
    target: (id) => (id === record.id ? { container: record, rootfs: "/nonexistent" } : undefined),
    record: async (id, result, monitor: HealthMonitor) => {
      if (!monitors.isCurrent(id, monitor)) return undefined;
      const before = record.state.health ?? startingHealth();
      const after = applyProbeResult(before, result, healthSettings(record.config.Healthcheck) as HealthSettings, Date.parse(record.state.startedAt));
      record.state.health = after;
      if (after.Status !== before.Status) transitions.push(`health_status: ${after.Status}`);
      return after;
    },
    fault: (_id, e) => {
      throw e;
    },
  });
  record.state.health = startingHealth();
  return { monitors, transitions, health: () => record.state.health! };
}

describe("the health monitor", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("N successes then failures: healthy, then unhealthy with a streak of `retries`, one probe per interval", async () => {
    const runner = new ScriptedRunner((n) => (n <= 3 ? 0 : 1));
    const record = container({ Test: ["CMD-SHELL", "check"], Interval: 1 * S, Retries: 2 }, Date.now());
    const { monitors, transitions, health } = harness(record, runner);
    monitors.arm(record);
    // Nothing runs before the first interval is up.
    await vi.advanceTimersByTimeAsync(999);
    expect(runner.runs).toBe(0);
    expect(health().Status).toBe("starting");
    await vi.advanceTimersByTimeAsync(11);
    expect(health()).toMatchObject({ Status: "healthy", FailingStreak: 0 });
    expect(runner.commands[0]).toEqual(["/bin/sh", "-c", "check"]);
    // Probes 2 and 3 succeed, 4 fails (still healthy), 5 fails: unhealthy, streak 2.
    await vi.advanceTimersByTimeAsync(3 * 1010);
    expect(health()).toMatchObject({ Status: "healthy", FailingStreak: 1 });
    await vi.advanceTimersByTimeAsync(1010);
    expect(runner.runs).toBe(5);
    expect(health()).toMatchObject({ Status: "unhealthy", FailingStreak: 2 });
    expect(health().Log.map((r) => [r.ExitCode, r.Output])).toEqual([1, 2, 3, 4, 5].map((n) => [n <= 3 ? 0 : 1, `run ${n}\n`]));
    expect(transitions).toEqual(["health_status: healthy", "health_status: unhealthy"]);
    monitors.closeAll();
  });

  it("a probe past its timeout is killed and fails with dockerd's message", async () => {
    const runner = new ScriptedRunner(() => "hang");
    const record = container({ Test: ["CMD", "slow"], Interval: 1 * S, Timeout: 2 * S, Retries: 1 }, Date.now());
    const { monitors, health } = harness(record, runner);
    monitors.arm(record);
    await vi.advanceTimersByTimeAsync(1000 + 2000);
    expect(runner.killed).toBe(1);
    expect(health()).toMatchObject({ Status: "unhealthy", FailingStreak: 1 });
    expect(health().Log[0]).toMatchObject({ ExitCode: -1, Output: "Health check exceeded timeout (2s): partial" });
    // The next probe comes an interval after the killed one ended.
    await vi.advanceTimersByTimeAsync(999);
    expect(runner.runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runner.runs).toBe(2);
    monitors.closeAll();
  });

  it("within the start period, probes come every start interval and failures don't count", async () => {
    const runner = new ScriptedRunner((n) => (n <= 4 ? 1 : 0));
    const record = container({ Test: ["CMD", "x"], Interval: 30 * S, StartPeriod: 60 * S, StartInterval: 2 * S, Retries: 1 }, Date.now());
    const { monitors, health } = harness(record, runner);
    monitors.arm(record);
    await vi.advanceTimersByTimeAsync(4 * 2010);
    expect(runner.runs).toBe(4);
    expect(health()).toMatchObject({ Status: "starting", FailingStreak: 0 });
    await vi.advanceTimersByTimeAsync(2010);
    expect(health()).toMatchObject({ Status: "healthy" });
    // Healthy: back to the interval (or the end of the start period, whichever comes first).
    await vi.advanceTimersByTimeAsync(29_000);
    expect(runner.runs).toBe(5);
    monitors.closeAll();
  });

  it("disarming stops the probes and kills one in flight; its result is dropped; arming twice runs one monitor", async () => {
    const runner = new ScriptedRunner(() => "hang");
    const record = container({ Test: ["CMD", "x"], Interval: 1 * S, Timeout: 60 * S }, Date.now());
    const { monitors, health } = harness(record, runner);
    monitors.arm(record);
    monitors.arm(record);
    await vi.advanceTimersByTimeAsync(1500);
    expect(runner.runs).toBe(1);
    expect(monitors.disarm(record.id)).toBe(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(runner.killed).toBe(1);
    expect(health()).toMatchObject({ Status: "starting", Log: [] });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(runner.runs).toBe(1);
    expect(monitors.disarm(record.id)).toBe(false);
  });

  it("an interval longer than a timer can hold (1000h) is waited for in full", async () => {
    const runner = new ScriptedRunner(() => 0);
    const record = container({ Test: ["CMD", "x"], Interval: 1000 * 3600 * S }, Date.now());
    const { monitors } = harness(record, runner);
    monitors.arm(record);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runner.runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1000 * 3600_000 - 60_000 - 1);
    expect(runner.runs).toBe(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(runner.runs).toBe(1);
    monitors.closeAll();
  });

  it("a container without a check is never probed", async () => {
    const runner = new ScriptedRunner(() => 0);
    const record = container({ Test: ["NONE"] }, Date.now());
    const { monitors } = harness(record, runner);
    monitors.arm(record);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(runner.runs).toBe(0);
    expect(monitors.disarm(record.id)).toBe(false);
  });
});
