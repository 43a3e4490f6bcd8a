import "server-only";
import type { StackService } from "../../lib/compose/model";
import { AppError } from "../errors";
import type { StackAgent } from "./host-state";

// depends_on conditions: a dependent waits until its dependency's containers
// are healthy, or have exited 0. Bounded by the health check's own timing
// (start period + (interval + timeout) × (retries + 1)), or a minute for a
// one-shot service; a clear error names the service on failure or timeout.

const POLL_MS = 200;
/** Docker's defaults when the compose file doesn't say. */
const DEFAULT_INTERVAL = 30;
const DEFAULT_TIMEOUT = 30;
const DEFAULT_RETRIES = 3;
const COMPLETION_LIMIT_MS = 120_000;

type InspectWithHealth = { State: { Running: boolean; Status: string; ExitCode: number; Health?: { Status: string } } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a service may take to become healthy. */
export function healthDeadlineMs(service: StackService): number {
  const hc = service.spec.healthcheck;
  const interval = hc?.intervalSeconds ?? DEFAULT_INTERVAL;
  const timeout = hc?.timeoutSeconds ?? DEFAULT_TIMEOUT;
  const retries = hc?.retries ?? DEFAULT_RETRIES;
  const start = hc?.startPeriodSeconds ?? 0;
  return Math.ceil((start + (interval + timeout) * (retries + 1)) * 1000) + 5_000;
}

export async function waitHealthy(client: Pick<StackAgent, "inspectContainer">, service: StackService, ids: string[]): Promise<void> {
  if (service.spec.healthcheck?.test[0] === "NONE") {
    throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" has its health check disabled, so "service_healthy" can never hold.`);
  }
  const deadline = Date.now() + healthDeadlineMs(service);
  for (const id of ids) {
    for (;;) {
      const state = ((await client.inspectContainer(id)) as unknown as InspectWithHealth).State;
      const health = state.Health?.Status;
      if (health === "healthy") break;
      if (health === "unhealthy") throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" is unhealthy, so the services that depend on it were not started.`);
      if (!health && state.Running) throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" has no health check, so "service_healthy" can never hold.`);
      if (!state.Running) throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" stopped (exit code ${state.ExitCode}) before it was healthy.`);
      if (Date.now() > deadline) throw new AppError("TIMEOUT", `Service "${service.name}" did not become healthy within ${Math.round(healthDeadlineMs(service) / 1000)} s.`);
      await sleep(POLL_MS);
    }
  }
}

export async function waitCompleted(client: Pick<StackAgent, "inspectContainer">, service: StackService, ids: string[]): Promise<void> {
  const deadline = Date.now() + COMPLETION_LIMIT_MS;
  for (const id of ids) {
    for (;;) {
      const state = (await client.inspectContainer(id)).State;
      if (!state.Running && state.Status !== "created" && state.Status !== "restarting") {
        if (state.ExitCode === 0) break;
        throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" exited with code ${state.ExitCode}; "service_completed_successfully" needs 0.`);
      }
      if (Date.now() > deadline) throw new AppError("TIMEOUT", `Service "${service.name}" did not complete within ${COMPLETION_LIMIT_MS / 1000} s.`);
      await sleep(POLL_MS);
    }
  }
}
