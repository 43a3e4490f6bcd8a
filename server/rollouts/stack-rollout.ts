import "server-only";
import { AppError } from "../errors";
import type { RolloutDeps } from "./engine";
import type { RolloutPlan, RolloutRequest, RunContext, RunOutcome } from "./types";

// CONTRACT STUB (stack-rollouts helper owns this file): what the engine calls
// for a stack target. planStackRollout works out what a request changes
// (services whose image repository matches `image`, or the new version's
// services), runStackRollout rolls them one at a time in dependency order,
// each through the health gate.

export async function planStackRollout(_deps: RolloutDeps, _req: RolloutRequest & { target: { kind: "stack" } }): Promise<RolloutPlan> {
  throw new AppError("INTERNAL", "Stack rollouts are not built yet.");
}

export async function runStackRollout(_ctx: RunContext): Promise<RunOutcome> {
  throw new AppError("INTERNAL", "Stack rollouts are not built yet.");
}
