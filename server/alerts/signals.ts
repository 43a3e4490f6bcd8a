import "server-only";
import { EventEmitter } from "node:events";

// What the alert evaluator hears, from whoever sees it first: the fleet
// (host links, agent events), the stats collector (usage, disk), the rollout
// worker, the policy gate, sign-in, the audit verifier. One in-process bus per
// gateway, kept on globalThis (the entry point and Next's server bundle load
// separate copies of modules). Emitting never throws and never waits.

export type AlertSignal =
  | { type: "host.status"; hostId: string; status: "connected" | "unreachable" | "hostKeyChanged" | "authFailed" | "pending"; message: string | null; at: Date }
  | { type: "agent.health"; hostId: string; ok: boolean; message: string | null; at: Date }
  | {
      type: "container.event";
      hostId: string;
      containerId: string;
      name: string;
      labels: Record<string, string>;
      /** Docker event actions: die, oom, restart, start, health_status: healthy|unhealthy, destroy. */
      action: string;
      exitCode: number | null;
      at: Date;
    }
  | {
      type: "usage.sample";
      hostId: string;
      containerId: string;
      name: string;
      labels: Record<string, string>;
      /** CPU as a percentage of the container's CPU limit (or of the host's CPUs without one). */
      cpuPercentOfLimit: number;
      memoryBytes: number;
      memoryLimitBytes: number | null;
      at: Date;
    }
  | { type: "disk.usage"; hostId: string; /** "state" or "volume:<name>" */ mount: string; path: string; usedPercent: number; at: Date }
  | { type: "rollout.finished"; rolloutId: string; hostId: string; target: string; status: string; reason: string | null; at: Date }
  | { type: "policy.denied"; hostId: string | null; actor: string | null; message: string; at: Date }
  | { type: "signin.lockout"; email: string; ip: string | null; at: Date }
  | { type: "audit.verified"; ok: boolean; message: string; at: Date };

type Bus = EventEmitter<{ signal: [AlertSignal] }>;
const holder = globalThis as unknown as { berthAlertSignals?: Bus };

function bus(): Bus {
  holder.berthAlertSignals ??= new EventEmitter<{ signal: [AlertSignal] }>().setMaxListeners(50);
  return holder.berthAlertSignals;
}

export function emitSignal(s: AlertSignal): void {
  try {
    bus().emit("signal", s);
  } catch (e) {
    console.error("[berth] alert signal listener failed:", e instanceof Error ? e.message : e);
  }
}

export function onSignal(listener: (s: AlertSignal) => void): () => void {
  bus().on("signal", listener);
  return () => bus().off("signal", listener);
}
