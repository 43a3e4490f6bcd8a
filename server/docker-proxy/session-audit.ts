import "server-only";
import type { AuditOutcome } from "../audit/types";
import { agentClient } from "./agent-link";
import type { Approved, ProxyContext } from "./context";

// Calls that are sessions on the host rather than single requests are
// recorded as sessions: an exec (start, then end with its exit code) and an
// attach that writes to the container's stdin (as much as an exec).

/**
 * `docker attach` / `run -i` with stdin writes to the container's process as an exec does: recorded as a
 * session, containers.attach.start when it begins (or is refused by the host) and containers.attach.end.
 */
export function recordAttach(a: Approved, phase: "start" | "end", outcome: AuditOutcome, extra: Record<string, unknown> = {}, errorMessage: string | null = null): Promise<void> {
  return a.admission.record({
    action: `containers.attach.${phase}`,
    outcome,
    params: { ...a.params, container: a.match.params[0], stdin: true, via: "docker-proxy", ...extra },
    errorMessage,
    hostId: a.host.id,
    target: a.target,
  });
}

/** containers.exec.end, with the exit code and container the agent reports for the exec (when it can say). */
export async function recordExecEnd(ctx: ProxyContext, a: Approved, execId: string, started: number, closedBy: string): Promise<void> {
  let exitCode: number | null = null;
  let containerId: string | null = null;
  try {
    const inspect = await agentClient(ctx, a).inspectExec(execId);
    if (typeof inspect.ExitCode === "number") exitCode = inspect.ExitCode;
    if (typeof inspect.ContainerID === "string") containerId = inspect.ContainerID;
  } catch {
    // The end is recorded without an exit code.
  }
  await a.admission.record({
    action: "containers.exec.end",
    outcome: "success",
    params: { ...a.params, execId, ...(containerId ? { containerId } : {}), exitCode, durationMs: Date.now() - started, closedBy, via: "docker-proxy" },
    hostId: a.host.id,
    target: containerId ? { type: "container", id: containerId } : a.target,
  });
}

/** An exec that started: recorded as it begins (its end follows). */
export function recordExecStart(a: Approved, extra: Record<string, unknown> = {}): Promise<void> {
  return a.admission.record({
    action: a.match.endpoint.action,
    outcome: "success",
    params: { ...a.params, ...extra, execId: a.match.params[0], via: "docker-proxy" },
    hostId: a.host.id,
    target: a.target,
  });
}
