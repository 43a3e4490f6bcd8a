import "server-only";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

// The gateway's own metrics: what it measures as it goes (request durations,
// audit events written, rollouts by result, SSH reconnects), in one
// prom-client Registry. Kept on globalThis and created in one place: the
// entry point (server/gateway.ts, under tsx) and Next's server bundle (tRPC,
// the fleet, the rollout worker) load separate copies of this module and of
// prom-client, but must count into the same instruments.
//
// What a scrape reads from the fleet and the stats collector (hosts,
// containers) is not here: scrape.ts builds it afresh each time, so hosts and
// containers that are gone are gone from the next scrape.

/** Seconds; request durations from a fast tRPC query to a slow pull. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface GatewayMetrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  trpcDuration: Histogram<"procedure" | "type" | "result">;
  auditEvents: Counter<"outcome">;
  rollouts: Counter<"kind" | "result">;
  /** Reconnections after a lost SSH link, per host id (read at scrape, labelled with the host's current name). */
  reconnects: Map<string, number>;
}

const holder = globalThis as unknown as { berthMetrics?: GatewayMetrics };

function create(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({
      name: "berth_http_request_duration_seconds",
      help: "HTTP requests the gateway answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    trpcDuration: new Histogram({
      name: "berth_trpc_procedure_duration_seconds",
      help: "tRPC procedure calls, by procedure, type and result (ok or the error code).",
      labelNames: ["procedure", "type", "result"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    auditEvents: new Counter({
      name: "berth_audit_events_written_total",
      help: "Audit events this gateway appended to the chain, by outcome.",
      labelNames: ["outcome"] as const,
      registers,
    }),
    rollouts: new Counter({
      name: "berth_rollouts_total",
      help: "Rollouts this gateway ran to the end, by kind (deployment, stack) and result (succeeded, failed, rolled_back, denied).",
      labelNames: ["kind", "result"] as const,
      registers,
    }),
    reconnects: new Map(),
  };
}

/** The gateway's one set of instruments (created on first use). */
export function gatewayMetrics(): GatewayMetrics {
  holder.berthMetrics ??= create();
  return holder.berthMetrics;
}

// Call sites: one line each, never throwing into the code they measure.

const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A method label from a fixed set (anything else: "other"). */
export function methodLabel(method: string | undefined): string {
  const m = (method ?? "").toUpperCase();
  return HTTP_METHODS.has(m) ? m : "other";
}

/** A status label: the code when it is a real HTTP status, else "other". */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : "other";
}

export function observeHttp(method: string | undefined, route: string, status: number, seconds: number): void {
  gatewayMetrics().httpDuration.observe({ method: methodLabel(method), route, status: statusLabel(status) }, seconds);
}

export function observeTrpc(procedure: string, type: string, result: string, seconds: number): void {
  gatewayMetrics().trpcDuration.observe({ procedure, type, result }, seconds);
}

export function countAuditEvent(outcome: string): void {
  gatewayMetrics().auditEvents.inc({ outcome });
}

export type RolloutResult = "succeeded" | "failed" | "rolled_back" | "denied";

export function countRollout(kind: "deployment" | "stack", result: RolloutResult): void {
  gatewayMetrics().rollouts.inc({ kind, result });
}

/**
 * A host's SSH link changed state: a link that comes up again after it was
 * up or tried (anything but the first "connecting") is a reconnect.
 */
export function noteLinkState(hostId: string, state: string, previous: string | undefined): void {
  if (state !== "connected" || previous === undefined || previous === "connecting") return;
  const reconnects = gatewayMetrics().reconnects;
  reconnects.set(hostId, (reconnects.get(hostId) ?? 0) + 1);
}
