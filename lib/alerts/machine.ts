import { ALERT_KINDS, type AlertKind } from "./kinds";

// The alert state machine, pure: what a signal means for a rule (an
// observation: the condition holds or no longer holds, for one subject), and
// what an observation or the passing of time does to that subject's open
// alert. The evaluator (server/alerts/evaluator.ts) applies the transitions to
// the database; the unit tests drive them with synthetic signals and a fake
// clock. Signals are the server's AlertSignal, described structurally here so
// lib stays free of server imports.

export type Signal =
  | { type: "host.status"; hostId: string; status: string; message: string | null; at: Date }
  | { type: "agent.health"; hostId: string; ok: boolean; message: string | null; at: Date }
  | { type: "container.event"; hostId: string; containerId: string; name: string; labels: Record<string, string>; action: string; exitCode: number | null; at: Date }
  | { type: "usage.sample"; hostId: string; containerId: string; name: string; labels: Record<string, string>; cpuPercentOfLimit: number; memoryBytes: number; memoryLimitBytes: number | null; at: Date }
  | { type: "disk.usage"; hostId: string; mount: string; path: string; usedPercent: number; at: Date }
  | { type: "rollout.finished"; rolloutId: string; hostId: string; target: string; status: string; reason: string | null; at: Date }
  | { type: "policy.denied"; hostId: string | null; actor: string | null; message: string; at: Date }
  | { type: "signin.lockout"; email: string; ip: string | null; at: Date }
  | { type: "audit.verified"; ok: boolean; message: string; at: Date };

export interface RuleLike {
  id: string;
  kind: AlertKind;
  scopeKey: string;
  labelSelector: Record<string, string>;
  params: Record<string, unknown>;
  forSeconds: number;
  repeatMinutes: number;
}

export interface HostRef {
  id: string;
  hostGroupId: string | null;
}

/** One subject's condition, as one signal shows it. */
export interface Observation {
  subjectKey: string;
  hostId: string | null;
  containerId: string | null;
  containerName: string | null;
  labels: Record<string, string>;
  /** true: the condition holds (open or keep the alert); false: it no longer does (resolve). */
  holds: boolean;
  summary: string;
  details: Record<string, unknown>;
  at: Date;
}

/** Kinds that happen (rather than last): they fire at once (after "for") and resolve on a later signal or after a quiet period. */
export const EVENT_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(["containerOom", "containerDied", "restartLoop", "rolloutFailed", "deployDenied", "signInLockout", "auditChainBroken"]);

/** Global kinds that resolve after a quiet period with no new event. */
const QUIET_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(["rolloutFailed", "deployDenied", "signInLockout"]);

export function ruleParams(kind: AlertKind, params: unknown): Record<string, unknown> {
  const parsed = ALERT_KINDS[kind].params.safeParse(params ?? {});
  return parsed.success ? (parsed.data as Record<string, unknown>) : (ALERT_KINDS[kind].params.parse({}) as Record<string, unknown>);
}

export function inScope(scopeKey: string, host: HostRef | null): boolean {
  if (scopeKey === "all") return true;
  if (!host) return false;
  if (scopeKey.startsWith("host:")) return host.id === scopeKey.slice(5);
  if (scopeKey.startsWith("hostGroup:")) return host.hostGroupId !== null && host.hostGroupId === scopeKey.slice(10);
  return false;
}

/** Every selector label is on the container (with that value, or any value when the selector's value is ""). */
export function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && (v === "" || labels[k] === v));
}

export const containerSubject = (hostId: string, name: string) => `container:${hostId}/${name}`;

/**
 * Restarts per container, remembered for the longest restart-loop window
 * (bounded: at most `maxPerContainer` times each, `maxContainers` containers).
 * A restart is a start (or restart) after the container died while we watched.
 */
export class RestartTracker {
  private readonly times = new Map<string, number[]>();
  private readonly died = new Set<string>();

  constructor(
    private readonly maxPerContainer = 1000,
    private readonly maxContainers = 10_000,
  ) {}

  /** Feeds a signal; returns whether it was a restart. */
  note(s: Signal): boolean {
    if (s.type !== "container.event") return false;
    const key = containerSubject(s.hostId, s.name);
    if (s.action === "die") {
      this.died.add(key);
      if (this.died.size > this.maxContainers) this.died.delete(this.died.values().next().value!);
      return false;
    }
    if (s.action === "destroy") {
      this.died.delete(key);
      this.times.delete(key);
      return false;
    }
    const restart = s.action === "restart" || (s.action === "start" && this.died.has(key));
    if (!restart) return false;
    this.died.delete(key);
    const list = this.times.get(key) ?? [];
    list.push(s.at.getTime());
    if (list.length > this.maxPerContainer) list.splice(0, list.length - this.maxPerContainer);
    this.times.delete(key);
    this.times.set(key, list);
    if (this.times.size > this.maxContainers) this.times.delete(this.times.keys().next().value!);
    return true;
  }

  /** Restarts of the container since `since`. */
  count(key: string, since: Date): number {
    return (this.times.get(key) ?? []).filter((t) => t >= since.getTime()).length;
  }

  /** Forgets restarts older than `before`. */
  prune(before: Date): void {
    for (const [key, list] of this.times) {
      const kept = list.filter((t) => t >= before.getTime());
      if (kept.length) this.times.set(key, kept);
      else this.times.delete(key);
    }
  }
}

const pct = (n: number) => `${Math.round(n * 10) / 10} %`;

/**
 * What `signal` says about `rule`'s condition: observations for the subjects
 * it concerns (none when it says nothing about this kind, or the subject is
 * out of the rule's scope or label selector).
 */
export function observe(rule: RuleLike, s: Signal, host: HostRef | null, restarts: RestartTracker): Observation[] {
  const params = ruleParams(rule.kind, rule.params);
  if (!inScope(rule.scopeKey, host)) return [];
  // Global subjects (one alert per kind) name no host: the last event's host is in the details.
  const base = { hostId: ALERT_KINDS[rule.kind].subject === "global" ? null : (host?.id ?? null), containerId: null, containerName: null, labels: {}, at: s.at };
  const one = (o: Partial<Observation> & Pick<Observation, "subjectKey" | "holds" | "summary">): Observation[] => [{ ...base, details: {}, ...o }];

  if (s.type === "container.event" || s.type === "usage.sample") {
    if (ALERT_KINDS[rule.kind].subject !== "container") return [];
    if (!labelsMatch(rule.labelSelector, s.labels)) return [];
    const c = { subjectKey: containerSubject(s.hostId, s.name), containerId: s.containerId, containerName: s.name, labels: s.labels };
    if (s.type === "usage.sample") {
      if (rule.kind === "containerMemory") {
        if (!s.memoryLimitBytes) return [];
        const used = (100 * s.memoryBytes) / s.memoryLimitBytes;
        const limit = params.percent as number;
        return one({ ...c, holds: used >= limit, summary: `${s.name} uses ${pct(used)} of its memory limit (above ${limit} %)`, details: { usedPercent: used } });
      }
      if (rule.kind === "containerCpu") {
        const limit = params.percent as number;
        return one({ ...c, holds: s.cpuPercentOfLimit >= limit, summary: `${s.name} uses ${pct(s.cpuPercentOfLimit)} of its CPU limit (above ${limit} %)`, details: { cpuPercent: s.cpuPercentOfLimit } });
      }
      return [];
    }
    const a = s.action;
    if (a === "destroy") return one({ ...c, holds: false, summary: `${s.name} was removed` });
    const started = a === "start" || a === "restart";
    switch (rule.kind) {
      case "containerOom":
        if (a === "oom") return one({ ...c, holds: true, summary: `${s.name} was killed by the OOM killer`, details: { lastEventAt: s.at.toISOString() } });
        return started ? one({ ...c, holds: false, summary: `${s.name} runs again` }) : [];
      case "containerDied":
        if (a === "die" && s.exitCode !== null && s.exitCode !== 0) {
          return one({ ...c, holds: true, summary: `${s.name} died with exit code ${s.exitCode}`, details: { exitCode: s.exitCode, lastEventAt: s.at.toISOString() } });
        }
        return started ? one({ ...c, holds: false, summary: `${s.name} runs again` }) : [];
      case "containerUnhealthy":
        if (a === "health_status: unhealthy") return one({ ...c, holds: true, summary: `${s.name} is unhealthy` });
        if (a === "health_status: healthy" || a === "die" || started) return one({ ...c, holds: false, summary: `${s.name} is no longer unhealthy` });
        return [];
      case "restartLoop": {
        if (!started) return [];
        const minutes = params.minutes as number;
        const n = restarts.count(c.subjectKey, new Date(s.at.getTime() - minutes * 60_000));
        if (n < (params.restarts as number)) return [];
        return one({ ...c, holds: true, summary: `${s.name} restarted ${n} times in ${minutes} minutes`, details: { restarts: n, lastEventAt: s.at.toISOString() } });
      }
      default:
        return [];
    }
  }

  switch (s.type) {
    case "host.status": {
      const subjectKey = `host:${s.hostId}`;
      if (rule.kind === "hostUnreachable") {
        if (s.status === "unreachable") return one({ subjectKey, holds: true, summary: `Host unreachable${s.message ? `: ${s.message}` : ""}`, details: { message: s.message } });
        return s.status === "connected" ? one({ subjectKey, holds: false, summary: "Host reachable again" }) : [];
      }
      if (rule.kind === "hostKeyChanged") {
        if (s.status === "hostKeyChanged") return one({ subjectKey, holds: true, summary: `Host key changed${s.message ? `: ${s.message}` : ""}`, details: { message: s.message } });
        return s.status === "connected" ? one({ subjectKey, holds: false, summary: "Host presents its pinned key" }) : [];
      }
      return [];
    }
    case "agent.health":
      if (rule.kind !== "agentUnhealthy") return [];
      return one({ subjectKey: `host:${s.hostId}`, holds: !s.ok, summary: s.ok ? "Agent answers again" : `Agent unhealthy${s.message ? `: ${s.message}` : ""}`, details: { message: s.message } });
    case "disk.usage": {
      if (rule.kind !== "diskUsage") return [];
      const limit = params.percent as number;
      return one({
        subjectKey: `disk:${s.hostId}/${s.mount}`,
        holds: s.usedPercent >= limit,
        summary: `Disk of ${s.mount === "state" ? "the agent's state root" : s.mount} (${s.path}) is ${pct(s.usedPercent)} full (above ${limit} %)`,
        details: { mount: s.mount, path: s.path, usedPercent: s.usedPercent },
      });
    }
    case "rollout.finished":
      if (rule.kind !== "rolloutFailed" || !["failed", "rolledBack"].includes(s.status)) return [];
      return one({
        subjectKey: "global:rolloutFailed",
        holds: true,
        summary: `Rollout of ${s.target} ${s.status === "failed" ? "failed" : "was rolled back"}${s.reason ? `: ${s.reason}` : ""}`,
        details: { rolloutId: s.rolloutId, hostId: s.hostId, status: s.status, lastEventAt: s.at.toISOString() },
      });
    case "policy.denied":
      if (rule.kind !== "deployDenied") return [];
      return one({ subjectKey: "global:deployDenied", holds: true, summary: `Deploy denied by policy${s.actor ? ` (${s.actor})` : ""}: ${s.message}`, details: { lastEventAt: s.at.toISOString() } });
    case "signin.lockout":
      if (rule.kind !== "signInLockout") return [];
      return one({ subjectKey: "global:signInLockout", holds: true, summary: `Sign-in locked out for ${s.email}${s.ip ? ` from ${s.ip}` : ""}`, details: { email: s.email, lastEventAt: s.at.toISOString() } });
    case "audit.verified":
      if (rule.kind !== "auditChainBroken") return [];
      return one({ subjectKey: "global:auditChainBroken", holds: !s.ok, summary: s.ok ? "Audit chain verifies again" : `Audit chain verification failed: ${s.message}`, details: { message: s.message } });
  }
}

/** The part of an open alert the machine looks at. */
export interface OpenAlert {
  status: "pending" | "firing";
  startsAt: Date;
  firedAt: Date | null;
  lastNotifiedAt: Date | null;
  details: Record<string, unknown>;
}

export type Transition =
  | { type: "open"; status: "pending" | "firing" }
  /** A pending alert's "for" is over. */
  | { type: "fire" }
  /** Still holding: new details (an event again), nothing else changes. */
  | { type: "touch" }
  /** quiet: it never fired, so nobody is told. */
  | { type: "resolve"; quiet: boolean; reason: string }
  | { type: "repeat" };

/** What an observation does to the subject's open alert (null: none open). */
export function onObservation(open: OpenAlert | null, obs: Observation, rule: RuleLike, now: Date): Transition | null {
  if (!obs.holds) return open ? { type: "resolve", quiet: open.status === "pending", reason: obs.summary } : null;
  if (!open) return { type: "open", status: rule.forSeconds <= 0 ? "firing" : "pending" };
  if (open.status === "pending" && now.getTime() - open.startsAt.getTime() >= rule.forSeconds * 1000) return { type: "fire" };
  return EVENT_KINDS.has(rule.kind) ? { type: "touch" } : null;
}

/** What the passing of time does to an open alert: "for" over, quiet period over, a repeat due. */
export function onTick(open: OpenAlert, rule: RuleLike, now: Date, quietMs: number): Transition | null {
  const t = now.getTime();
  const last = typeof open.details.lastEventAt === "string" ? Date.parse(open.details.lastEventAt) : open.startsAt.getTime();
  if (rule.kind === "restartLoop") {
    const minutes = ruleParams(rule.kind, rule.params).minutes as number;
    if (t - last >= minutes * 60_000) return { type: "resolve", quiet: open.status === "pending", reason: `No restart for ${minutes} minutes` };
  } else if (QUIET_KINDS.has(rule.kind) && t - last >= quietMs) {
    return { type: "resolve", quiet: open.status === "pending", reason: `Nothing new for ${Math.round(quietMs / 60_000)} minutes` };
  }
  if (open.status === "pending") return t - open.startsAt.getTime() >= rule.forSeconds * 1000 ? { type: "fire" } : null;
  if (rule.repeatMinutes > 0 && open.lastNotifiedAt && t - open.lastNotifiedAt.getTime() >= rule.repeatMinutes * 60_000) return { type: "repeat" };
  return null;
}

export interface SilenceLike {
  id: string;
  ruleId: string | null;
  scopeKey: string | null;
  labelSelector: Record<string, string>;
  startsAt: Date;
  endsAt: Date;
  endedAt: Date | null;
}

export function silenceActive(s: SilenceLike, now: Date): boolean {
  return !s.endedAt && s.startsAt.getTime() <= now.getTime() && now.getTime() < s.endsAt.getTime();
}

/** Whether the silence covers the alert: every part it names matches (rule, scope, labels). */
export function silenceMatches(s: SilenceLike, alert: { ruleId: string; host: HostRef | null; labels: Record<string, string> }): boolean {
  if (s.ruleId && s.ruleId !== alert.ruleId) return false;
  if (s.scopeKey && !inScope(s.scopeKey, alert.host)) return false;
  if (Object.keys(s.labelSelector).length && !labelsMatch(s.labelSelector, alert.labels)) return false;
  return true;
}
