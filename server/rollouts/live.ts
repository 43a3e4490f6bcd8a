import "server-only";
import type { OperationProgress } from "../fleet/fleet";
import type { RolloutStep } from "./types";

// What this process keeps about rollouts besides their rows: the console's
// live-progress key of each (the form's token; it never leaves the process
// that asked), the error a rollout that touched nothing failed with (so the
// form that waits for it can answer it as it would have before), and the
// worker's wake-up. One holder per process (Next's bundle and the gateway's
// entry point each load their own copy of the modules).

interface LiveState {
  progressKeys: Map<string, string>;
  errors: Map<string, { error: unknown; at: number }>;
  wake: (() => void) | null;
}

const KEY = Symbol.for("berth.rollouts.live");
const holder = globalThis as unknown as Record<symbol, LiveState | undefined>;

export function live(): LiveState {
  return (holder[KEY] ??= { progressKeys: new Map(), errors: new Map(), wake: null });
}

/** At most this many remembered entries of each kind (the oldest go first). */
const MAX_ENTRIES = 500;
const ERROR_TTL_MS = 10 * 60_000;

function bounded<K, V>(map: Map<K, V>): void {
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as K);
}

export function rememberProgressKey(rolloutId: string, key: string | undefined): void {
  if (!key) return;
  live().progressKeys.set(rolloutId, key);
  bounded(live().progressKeys);
}

export function progressKeyOf(rolloutId: string): string | undefined {
  return live().progressKeys.get(rolloutId);
}

export function forgetProgressKey(rolloutId: string): void {
  live().progressKeys.delete(rolloutId);
}

export function rememberError(rolloutId: string, error: unknown): void {
  const errors = live().errors;
  errors.set(rolloutId, { error, at: Date.now() });
  bounded(errors);
}

/** The error a rollout failed with before it touched a container, if this process ran it (and only once). */
export function takeError(rolloutId: string): unknown {
  const errors = live().errors;
  const e = errors.get(rolloutId);
  errors.delete(rolloutId);
  return e && Date.now() - e.at < ERROR_TTL_MS ? e.error : undefined;
}

/** A timeline step as the console's progress stream shows it (the deploy form's phases). */
export function progressPhase(phase: RolloutStep["phase"]): OperationProgress["phase"] | null {
  switch (phase) {
    case "pull":
    case "policy":
      return "pull";
    case "create":
      return "create";
    case "start":
      return "start";
    case "gate":
    case "switch":
    case "stop":
      return "verify";
    case "rollback":
      return "rollback";
    case "done":
      return "done";
    case "error":
      return "error";
    default:
      return null;
  }
}
