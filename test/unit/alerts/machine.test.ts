import { describe, expect, it } from "vitest";
import {
  inScope,
  labelsMatch,
  observe,
  onObservation,
  onTick,
  RestartTracker,
  silenceActive,
  silenceMatches,
  type OpenAlert,
  type RuleLike,
  type Signal,
} from "../../../lib/alerts/machine";

// The alert state machine with synthetic signals and a fake clock: a tiny
// in-memory store applies the transitions the way the evaluator applies them
// to the database, and records what would have been sent.

type NoAt<T> = T extends unknown ? Omit<T, "at"> : never;
const T0 = Date.parse("2026-12-07T10:00:00Z");
const HOST = { id: "h1", hostGroupId: "g1" };

function rule(kind: RuleLike["kind"], extra: Partial<RuleLike> = {}): RuleLike {
  return { id: `r-${kind}`, kind, scopeKey: "all", labelSelector: {}, params: {}, forSeconds: 0, repeatMinutes: 0, ...extra };
}

class Sim {
  now = T0;
  readonly restarts = new RestartTracker();
  readonly open = new Map<string, OpenAlert>();
  readonly sent: string[] = [];
  readonly resolvedQuietly: string[] = [];
  constructor(
    readonly rules: RuleLike[],
    readonly quietMs = 600_000,
  ) {}

  at(seconds: number): this {
    this.now = T0 + seconds * 1000;
    return this;
  }

  signal(s: NoAt<Signal>): void {
    const full = { ...s, at: new Date(this.now) } as Signal;
    this.restarts.note(full);
    for (const r of this.rules) {
      for (const obs of observe(r, full, "hostId" in full && full.hostId ? HOST : null, this.restarts)) {
        const key = `${r.id}|${obs.subjectKey}`;
        const t = onObservation(this.open.get(key) ?? null, obs, r, new Date(this.now));
        this.apply(key, t, obs.details);
      }
    }
  }

  tick(): void {
    for (const r of this.rules) {
      for (const [key, a] of [...this.open]) if (key.startsWith(`${r.id}|`)) this.apply(key, onTick(a, r, new Date(this.now), this.quietMs), {});
    }
  }

  private apply(key: string, t: ReturnType<typeof onObservation>, details: Record<string, unknown>): void {
    const now = new Date(this.now);
    const a = this.open.get(key);
    switch (t?.type) {
      case "open":
        this.open.set(key, { status: t.status, startsAt: now, firedAt: t.status === "firing" ? now : null, lastNotifiedAt: t.status === "firing" ? now : null, details });
        if (t.status === "firing") this.sent.push(`firing ${key}`);
        return;
      case "fire":
        Object.assign(a!, { status: "firing", firedAt: now, lastNotifiedAt: now });
        this.sent.push(`firing ${key}`);
        return;
      case "touch":
        Object.assign(a!.details, details);
        return;
      case "repeat":
        a!.lastNotifiedAt = now;
        this.sent.push(`repeat ${key}`);
        return;
      case "resolve":
        this.open.delete(key);
        if (t.quiet) this.resolvedQuietly.push(key);
        else this.sent.push(`resolved ${key}`);
        return;
    }
  }
}

const container = (action: string, extra: Partial<{ name: string; exitCode: number | null; labels: Record<string, string> }> = {}) => ({
  type: "container.event" as const,
  hostId: "h1",
  containerId: "c1",
  name: extra.name ?? "web",
  labels: extra.labels ?? {},
  action,
  exitCode: extra.exitCode ?? null,
});

describe("alert state machine", () => {
  it("host unreachable: pending, firing after 'for', resolved when back, with one message each", () => {
    const sim = new Sim([rule("hostUnreachable", { forSeconds: 60 })]);
    sim.signal({ type: "host.status", hostId: "h1", status: "unreachable", message: "timed out" });
    expect([...sim.open.values()][0]?.status).toBe("pending");
    sim.at(30).tick();
    sim.at(31).signal({ type: "host.status", hostId: "h1", status: "unreachable", message: "refused" });
    expect(sim.sent).toEqual([]);
    sim.at(60).tick();
    expect(sim.sent).toEqual(["firing r-hostUnreachable|host:h1"]);
    sim.at(61).tick();
    sim.at(90).signal({ type: "host.status", hostId: "h1", status: "connected", message: null });
    expect(sim.sent).toEqual(["firing r-hostUnreachable|host:h1", "resolved r-hostUnreachable|host:h1"]);
    expect(sim.open.size).toBe(0);
  });

  it("a condition that clears before 'for' is over resolves quietly: nobody is told", () => {
    const sim = new Sim([rule("hostUnreachable", { forSeconds: 60 })]);
    sim.signal({ type: "host.status", hostId: "h1", status: "unreachable", message: null });
    sim.at(20).signal({ type: "host.status", hostId: "h1", status: "connected", message: null });
    sim.at(120).tick();
    expect(sim.sent).toEqual([]);
    expect(sim.resolvedQuietly).toEqual(["r-hostUnreachable|host:h1"]);
  });

  it("OOM fires at once and resolves when the container runs again", () => {
    const sim = new Sim([rule("containerOom")]);
    sim.signal(container("oom"));
    sim.signal(container("die", { exitCode: 137 }));
    expect(sim.sent).toEqual(["firing r-containerOom|container:h1/web"]);
    sim.at(5).signal(container("start"));
    expect(sim.sent.at(-1)).toBe("resolved r-containerOom|container:h1/web");
  });

  it("a restart loop is one alert, not one per restart, and resolves once the container stays up", () => {
    const sim = new Sim([rule("restartLoop", { params: { restarts: 3, minutes: 5 } })]);
    sim.signal(container("start"));
    for (let i = 1; i <= 10; i++) {
      sim.at(i * 2).signal(container("die", { exitCode: 1 }));
      sim.at(i * 2 + 1).signal(container("start"));
      sim.tick();
    }
    expect(sim.sent).toEqual(["firing r-restartLoop|container:h1/web"]);
    expect(sim.open.get("r-restartLoop|container:h1/web")?.details.restarts).toBe(10);
    sim.at(21 + 4 * 60).tick();
    expect(sim.open.size).toBe(1);
    sim.at(21 + 5 * 60).tick();
    expect(sim.sent.at(-1)).toBe("resolved r-restartLoop|container:h1/web");
  });

  it("the first start is not a restart; fewer restarts than N in M minutes fire nothing", () => {
    const sim = new Sim([rule("restartLoop", { params: { restarts: 3, minutes: 1 } })]);
    sim.signal(container("start"));
    for (let i = 1; i <= 4; i++) {
      sim.at(i * 40).signal(container("die", { exitCode: 1 }));
      sim.at(i * 40 + 1).signal(container("start"));
    }
    expect(sim.sent).toEqual([]);
  });

  it("repeats at the rule's interval while firing", () => {
    const sim = new Sim([rule("containerUnhealthy", { repeatMinutes: 10 })]);
    sim.signal(container("health_status: unhealthy"));
    sim.at(9 * 60).tick();
    sim.at(10 * 60).tick();
    sim.at(15 * 60).tick();
    sim.at(20 * 60).tick();
    expect(sim.sent.filter((s) => s.startsWith("repeat"))).toHaveLength(2);
  });

  it("global events group into one alert per kind and resolve after the quiet period", () => {
    const sim = new Sim([rule("deployDenied")], 600_000);
    sim.signal({ type: "policy.denied", hostId: "h1", actor: "a@example.test", message: "privileged" });
    sim.at(300).signal({ type: "policy.denied", hostId: "h1", actor: "b@example.test", message: "privileged" });
    expect(sim.sent).toEqual(["firing r-deployDenied|global:deployDenied"]);
    sim.at(300 + 599).tick();
    expect(sim.open.size).toBe(1);
    sim.at(300 + 600).tick();
    expect(sim.sent.at(-1)).toBe("resolved r-deployDenied|global:deployDenied");
  });

  it("the audit chain alert fires on a failed verify and resolves on the next good one", () => {
    const sim = new Sim([rule("auditChainBroken")]);
    sim.signal({ type: "audit.verified", ok: true, message: "fine" });
    expect(sim.sent).toEqual([]);
    sim.signal({ type: "audit.verified", ok: false, message: "event 5: hash" });
    sim.at(86_400).tick();
    sim.signal({ type: "audit.verified", ok: true, message: "fine" });
    expect(sim.sent).toEqual(["firing r-auditChainBroken|global:auditChainBroken", "resolved r-auditChainBroken|global:auditChainBroken"]);
  });

  it("usage rules compare against the limit; disk alerts are per mount", () => {
    const sim = new Sim([rule("containerMemory", { params: { percent: 80 } }), rule("diskUsage", { params: { percent: 90 } })]);
    const usage = (memoryBytes: number) => ({ type: "usage.sample" as const, hostId: "h1", containerId: "c1", name: "db", labels: {}, cpuPercentOfLimit: 1, memoryBytes, memoryLimitBytes: 1000 });
    sim.signal(usage(700));
    sim.signal(usage(850));
    sim.signal({ type: "disk.usage", hostId: "h1", mount: "state", path: "/var/lib/berth", usedPercent: 95 });
    sim.signal({ type: "disk.usage", hostId: "h1", mount: "volume:data", path: "/srv", usedPercent: 50 });
    expect(sim.sent.sort()).toEqual(["firing r-containerMemory|container:h1/db", "firing r-diskUsage|disk:h1/state"]);
  });

  it("scope and label selectors choose the subjects", () => {
    const inGroup = rule("containerOom", { id: "g", scopeKey: "hostGroup:g1", labelSelector: { tier: "web" } });
    const otherHost = rule("containerOom", { id: "o", scopeKey: "host:h2" });
    const sim = new Sim([inGroup, otherHost]);
    sim.signal(container("oom", { labels: { tier: "db" } }));
    sim.signal(container("oom", { name: "front", labels: { tier: "web", x: "1" } }));
    expect(sim.sent).toEqual(["firing g|container:h1/front"]);
    expect(inScope("all", null)).toBe(true);
    expect(inScope("host:h1", null)).toBe(false);
    expect(labelsMatch({ tier: "" }, { tier: "anything" })).toBe(true);
    expect(labelsMatch({ tier: "" }, {})).toBe(false);
  });

  it("silences match by rule, scope and labels together, between their start and end", () => {
    const now = new Date(T0);
    const s = { id: "s", ruleId: "r1", scopeKey: "host:h1", labelSelector: { tier: "web" }, startsAt: new Date(T0 - 1000), endsAt: new Date(T0 + 60_000), endedAt: null };
    expect(silenceActive(s, now)).toBe(true);
    expect(silenceActive(s, new Date(T0 + 60_000))).toBe(false);
    expect(silenceActive({ ...s, endedAt: now }, now)).toBe(false);
    expect(silenceMatches(s, { ruleId: "r1", host: HOST, labels: { tier: "web" } })).toBe(true);
    expect(silenceMatches(s, { ruleId: "r2", host: HOST, labels: { tier: "web" } })).toBe(false);
    expect(silenceMatches(s, { ruleId: "r1", host: { id: "h2", hostGroupId: null }, labels: { tier: "web" } })).toBe(false);
    expect(silenceMatches(s, { ruleId: "r1", host: HOST, labels: {} })).toBe(false);
    expect(silenceMatches({ ...s, ruleId: null, labelSelector: {} }, { ruleId: "any", host: HOST, labels: {} })).toBe(true);
  });
});
