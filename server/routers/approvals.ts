import "server-only";
import { z } from "zod";
import type { ApprovalRuleView, ApprovalView, Page } from "./_views";
import { decideApproval } from "../approvals/decide-approval";
import { countDecidable, getApproval, listApprovals } from "../approvals/list-approvals";
import { listApprovalRules, removeApprovalRule, setApprovalRule } from "../approvals/manage-rules";
import { createRouter, protectedProcedure } from "../trpc";

// Which hosts and groups need approval, and the inbox of requests: thin
// procedures over server/approvals (the rules, the scoping and the audit
// notes live there). Every mutation and denial is audited by the procedure
// ladder with the notes the services fill in (rollout id, host, comment).

const id = z.string().min(1).max(64);
const STATUSES = ["waiting", "approved", "rejected", "expired", "cancelled"] as const;

export const approvalsRouter = createRouter({
  rules: protectedProcedure.query(({ ctx }): Promise<ApprovalRuleView[]> => listApprovalRules(ctx.db, ctx.viewer)),
  setRule: protectedProcedure
    .input(z.object({ hostId: id.optional(), hostGroupId: id.optional(), expiryHours: z.number().int().min(1).max(24 * 30).default(72) }))
    .mutation(({ ctx, input }): Promise<ApprovalRuleView> => setApprovalRule(ctx.db, ctx.viewer, input, ctx.audit)),
  /** By the rule's id, or by its host or host group. */
  removeRule: protectedProcedure
    .input(z.object({ id: id.optional(), hostId: id.optional(), hostGroupId: id.optional() }))
    .mutation(({ ctx, input }): Promise<{ ok: true }> => removeApprovalRule(ctx.db, ctx.viewer, input, ctx.audit)),
  list: protectedProcedure
    .input(
      z
        .object({
          status: z.array(z.enum(STATUSES)).max(5).optional(),
          hostId: id.optional(),
          /** Only requests the viewer could decide now. */
          decidable: z.boolean().optional(),
          /** Only the viewer's own requests. */
          mine: z.boolean().optional(),
          cursor: id.optional(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }): Promise<Page<ApprovalView>> => listApprovals(ctx.db, ctx.viewer, input)),
  get: protectedProcedure.input(z.object({ id })).query(({ ctx, input }): Promise<ApprovalView> => getApproval(ctx.db, ctx.viewer, input.id)),
  /** Requests the viewer could decide now (the navigation's badge). */
  count: protectedProcedure.query(async ({ ctx }): Promise<{ waiting: number }> => ({ waiting: await countDecidable(ctx.db, ctx.viewer) })),
  approve: protectedProcedure
    .input(z.object({ id, comment: z.string().max(2000).default(""), runAt: z.coerce.date().nullable().default(null) }))
    .mutation(async ({ ctx, input }): Promise<ApprovalView> => {
      await decideApproval({ db: ctx.db, viewer: ctx.viewer, id: input.id, decision: "approve", comment: input.comment, runAt: input.runAt, audit: ctx.audit });
      return getApproval(ctx.db, ctx.viewer, input.id);
    }),
  reject: protectedProcedure.input(z.object({ id, comment: z.string().min(1).max(2000) })).mutation(async ({ ctx, input }): Promise<ApprovalView> => {
    await decideApproval({ db: ctx.db, viewer: ctx.viewer, id: input.id, decision: "reject", comment: input.comment, audit: ctx.audit });
    return getApproval(ctx.db, ctx.viewer, input.id);
  }),
  /** The requester withdraws their own waiting request. */
  cancel: protectedProcedure.input(z.object({ id, comment: z.string().max(2000).default("") })).mutation(async ({ ctx, input }): Promise<ApprovalView> => {
    await decideApproval({ db: ctx.db, viewer: ctx.viewer, id: input.id, decision: "cancel", comment: input.comment, audit: ctx.audit });
    return getApproval(ctx.db, ctx.viewer, input.id);
  }),
});
