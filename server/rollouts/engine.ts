import "server-only";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { FleetServices } from "../fleet/instance";
import type { Rollout } from "../generated/prisma/client";
import type { RolloutAccepted, RolloutRequest } from "./types";

// CONTRACT STUB (issue 19 foundation): the rollout engine's entry points.
// The engine helper replaces the bodies; the signatures are what webhooks,
// the watcher, approvals, the routers and REST call.

export interface RolloutDeps {
  db: Db;
  services: FleetServices;
}

/**
 * Plans the request (what changes, the policy verdict), writes the Rollout
 * row and either queues it (superseding older queued ones of the same target)
 * or, where approval is required, opens an ApprovalRequest and leaves it
 * "awaitingApproval". Audited by the caller's entry point.
 */
export async function requestRollout(_deps: RolloutDeps, _req: RolloutRequest): Promise<RolloutAccepted> {
  throw new AppError("INTERNAL", "The rollout engine is not built yet.");
}

/** Waits (bounded) until the rollout has finished or timeoutMs passed; returns the row as it is then. */
export async function waitForRollout(_db: Db, _rolloutId: string, _timeoutMs: number): Promise<Rollout> {
  throw new AppError("INTERNAL", "The rollout engine is not built yet.");
}

/** Wakes the worker (a rollout was approved or queued by another process). */
export function kickRollouts(): void {}
