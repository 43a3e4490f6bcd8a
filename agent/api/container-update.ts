import os from "node:os";
import { parseCreateRequest } from "../../lib/docker/create-request";
import type { ContainerEngine } from "../engine/engine";
import type { ContainerUpdate } from "../engine/host-settings";
import { ApiError } from "./errors";
import { readJson, type Router, sendJson } from "./http";

// POST /containers/{id}/update (docker update): an UpdateConfig (the
// resources of a HostConfig plus RestartPolicy) → engine.update → {Warnings}.

/** UpdateConfig fields the engine changes; dockerd's UpdateContainer ignores the others, and so do we. */
const CHANGED = ["Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "PidsLimit", "BlkioWeight"] as const;

export function containerUpdateRoutes(router: Router, engine: ContainerEngine): void {
  router.add("POST", "/containers/{id}/update", async (ctx) => {
    const body = await readJson(ctx);
    if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "invalid body: expected a JSON object");
    const { update, warnings } = parseUpdate(body as Record<string, unknown>);
    const result = await engine.update(ctx.params[0]!, update);
    sendJson(ctx, 200, { Warnings: [...warnings, ...result.warnings] });
  });
}

/** Checked as dockerd's verifyContainerSettings checks an update: the create request's checks, a swap limit alone allowed. */
function parseUpdate(body: Record<string, unknown>): { update: ContainerUpdate; warnings: string[] } {
  const fields: Record<string, unknown> = {};
  for (const key of [...CHANGED, "RestartPolicy", "KernelMemory", "CpuRealtimePeriod", "CpuRealtimeRuntime"]) if (key in body) fields[key] = body[key];
  const hc = parseCreateRequest({ HostConfig: fields }, { numCpus: os.availableParallelism(), update: true }).HostConfig ?? {};
  if ((hc.CpuRealtimePeriod ?? 0) > 0 || (hc.CpuRealtimeRuntime ?? 0) > 0) throw new ApiError(400, "Your kernel does not support CPU real-time scheduler");
  const warnings = hc.KernelMemory ? ["Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded."] : [];
  const update: ContainerUpdate = {};
  for (const key of CHANGED) if (hc[key] !== undefined) (update as Record<string, unknown>)[key] = hc[key];
  // parseCreateRequest reads a missing name as "no"; for an update it means "leave the policy as it is".
  const named = (body.RestartPolicy as { Name?: unknown } | null | undefined)?.Name;
  if (typeof named === "string" && named !== "" && hc.RestartPolicy) update.RestartPolicy = { Name: hc.RestartPolicy.Name as NonNullable<ContainerUpdate["RestartPolicy"]>["Name"], MaximumRetryCount: hc.RestartPolicy.MaximumRetryCount ?? 0 };
  return { update, warnings };
}
