import "server-only";
import { z } from "zod";
import type { Page, RolloutAccepted as _A, RolloutCounts, RolloutDetail, RolloutView } from "./_views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (engine helper owns this file): rollouts across the fleet and
// per deployment or stack; rollback re-deploys a chosen version by digest.

const id = z.string().min(1).max(64);
const STATUSES = ["awaitingApproval", "queued", "running", "succeeded", "failed", "superseded", "rejected", "expired", "cancelled"] as const;

export const rolloutsRouter = createRouter({
  list: protectedProcedure
    .input(
      z
        .object({
          status: z.array(z.enum(STATUSES)).max(9).optional(),
          deploymentId: id.optional(),
          stackId: id.optional(),
          hostId: id.optional(),
          cursor: id.optional(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .default({ limit: 50 }),
    )
    .query(async (): Promise<Page<RolloutView>> => notBuilt()),
  get: protectedProcedure.input(z.object({ id })).query(async (): Promise<RolloutDetail> => notBuilt()),
  counts: protectedProcedure.query(async (): Promise<RolloutCounts> => notBuilt()),
  /** Re-deploys the version the given rollout deployed (its digests), as a new rollout with trigger "rollback". */
  rollback: protectedProcedure.input(z.object({ rolloutId: id })).mutation(async (): Promise<_A> => notBuilt()),
  /** Cancels a queued rollout, or one awaiting approval (its requester or an approver). */
  cancel: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: true }> => notBuilt()),
});
