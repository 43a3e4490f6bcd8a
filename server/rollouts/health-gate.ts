import "server-only";
import type { AgentClient } from "../fleet/agent/client";
import type { ContainerInspect } from "../fleet/agent/types";

// The gate a new container passes before the old one goes: with a health
// check, "healthy"; without one, running for `settleSeconds` with no restart.
// It fails as soon as the container exits, restarts or turns unhealthy, and
// at `timeoutSeconds` at the latest. The reason is worded for the timeline
// and the approval inbox ("the new container exited with code 3").

export interface GateOptions {
  /** Without a health check: how long the container must keep running. */
  settleSeconds: number;
  /** The longest the gate waits (a health check that never reports). */
  timeoutSeconds: number;
  /** How often the container is inspected. */
  pollMs?: number;
}

export const DEFAULT_GATE: GateOptions = { settleSeconds: 5, timeoutSeconds: 120, pollMs: 250 };

export type GateResult = { ok: true; how: "healthy" | "settled" } | { ok: false; reason: string };

/** Why a container that stopped did (or null while it runs). */
export function stoppedReason(c: ContainerInspect): string | null {
  const s = c.State;
  if (s.Running && !s.Restarting) return null;
  if (s.OOMKilled) return "the new container was killed by the OOM killer";
  if (s.Restarting) return `the new container is restarting (last exit code ${s.ExitCode})`;
  if (s.Status === "created") return "the new container never started";
  return `the new container exited with code ${s.ExitCode}${s.Error ? ` (${s.Error})` : ""}`;
}

export async function passGate(client: AgentClient, id: string, o: GateOptions = DEFAULT_GATE, signal?: AbortSignal): Promise<GateResult> {
  const poll = o.pollMs ?? 250;
  const started = Date.now();
  const deadline = started + o.timeoutSeconds * 1000;
  let restarts: number | null = null;
  // Bounded: at most timeoutSeconds / pollMs inspections.
  while (Date.now() < deadline) {
    if (signal?.aborted) return { ok: false, reason: "the rollout was cancelled" };
    const c = await client.inspectContainer(id, { timeoutMs: 10_000 });
    const stopped = stoppedReason(c);
    if (stopped) return { ok: false, reason: stopped };
    restarts ??= c.RestartCount ?? 0;
    if ((c.RestartCount ?? 0) > restarts) return { ok: false, reason: `the new container restarted (exit code ${c.State.ExitCode})` };
    const health = c.State.Health?.Status;
    if (health === "healthy") return { ok: true, how: "healthy" };
    if (health === "unhealthy") {
      const last = c.State.Health?.Log?.at(-1);
      return { ok: false, reason: `the new container is unhealthy${last ? `: ${last.Output.trim().slice(0, 300)}` : ""}` };
    }
    if (!health || health === "none") {
      const upFor = Date.now() - Math.max(started, Date.parse(c.State.StartedAt) || started);
      if (upFor >= o.settleSeconds * 1000) return { ok: true, how: "settled" };
    }
    await new Promise((r) => setTimeout(r, poll));
  }
  return { ok: false, reason: `the new container was not healthy within ${o.timeoutSeconds} s` };
}

/** The container's last log lines (stdout and stderr), for a failed rollout's record. */
export async function logTail(client: AgentClient, id: string, lines = 20): Promise<string> {
  const out: string[] = [];
  try {
    for await (const frame of client.logs(id, { tail: lines, timeoutMs: 10_000 })) {
      out.push(frame.text);
      if (out.length > lines * 4) break;
    }
  } catch {
    // A container already gone has no logs to show; the reason says what happened.
  }
  return out.join("").split("\n").slice(-lines).join("\n").slice(-8_000);
}
