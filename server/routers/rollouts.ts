import "server-only";
import { z } from "zod";
import type { Page, RolloutAccepted, RolloutCounts, RolloutDetail, RolloutView } from "./_views";
import { actorOf } from "../pipeline/audit-log";
import { cancelRollout, countRollouts, listRollouts, readableRollout, rollBackTo } from "../rollouts/history";
import { ROLLOUT_STATUSES } from "../rollouts/types";
import { rolloutDetail, targetNames } from "../rollouts/views";
import { createRouter, protectedProcedure } from "../trpc";

// Rollouts across the fleet and per deployment or stack (the timeline), what
// runs and waits (the navigation's counts), rollback to a chosen earlier
// version by digest, and cancel of one that hasn't started. Reads are scoped
// to hosts where the viewer holds containers.read (deployments) or
// stacks.read (stacks); rollback needs the deploy permission there, like any
// update, and goes through the policy and approvals.

const id = z.string().min(1).max(64);
const progressToken = z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional();

export const rolloutsRouter = createRouter({
  list: protectedProcedure
    .input(
      z
        .object({
          status: z.array(z.enum(ROLLOUT_STATUSES)).max(9).optional(),
          deploymentId: id.optional(),
          stackId: id.optional(),
          hostId: id.optional(),
          cursor: id.optional(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }): Promise<Page<RolloutView>> => listRollouts(ctx.db, ctx.viewer, input)),

  get: protectedProcedure.input(z.object({ id })).query(async ({ ctx, input }): Promise<RolloutDetail> => {
    const row = await readableRollout(ctx.db, ctx.viewer, input.id);
    return rolloutDetail(row, await targetNames(ctx.db, [row]));
  }),

  counts: protectedProcedure.query(({ ctx }): Promise<RolloutCounts> => countRollouts(ctx.db, ctx.viewer)),

  /** Re-deploys the version the given rollout deployed (its digests), as a new rollout with trigger "rollback". */
  rollback: protectedProcedure.input(z.object({ rolloutId: id, progressToken })).mutation(async ({ ctx, input }): Promise<RolloutAccepted> => {
    ctx.audit.target = { type: "rollout", id: input.rolloutId };
    const services = await ctx.fleet();
    const accepted = await rollBackTo({ db: ctx.db, services, viewer: ctx.viewer, actor: actorOf(ctx.viewer), rolloutId: input.rolloutId, progressToken: input.progressToken });
    ctx.audit.hostId = accepted.hostId;
    ctx.audit.params = { rollbackOf: input.rolloutId, rolloutId: accepted.rolloutId, status: accepted.status };
    return { rolloutId: accepted.rolloutId, status: accepted.status };
  }),

  /** Cancels a queued rollout, or one awaiting approval (its requester or an approver). */
  cancel: protectedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
    ctx.audit.target = { type: "rollout", id: input.id };
    const done = await cancelRollout(ctx.db, ctx.viewer, input.id);
    ctx.audit.hostId = done.hostId;
    return { ok: true };
  }),
});
