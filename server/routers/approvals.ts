import "server-only";
import { z } from "zod";
import type { ApprovalRuleView, ApprovalView, Page } from "./_views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (approvals helper owns this file): which hosts and groups
// need approval, and the inbox of requests.

const id = z.string().min(1).max(64);
const STATUSES = ["waiting", "approved", "rejected", "expired", "cancelled"] as const;

export const approvalsRouter = createRouter({
  rules: protectedProcedure.query(async (): Promise<ApprovalRuleView[]> => notBuilt()),
  setRule: protectedProcedure
    .input(z.object({ hostId: id.optional(), hostGroupId: id.optional(), expiryHours: z.number().int().min(1).max(24 * 30).default(72) }))
    .mutation(async (): Promise<ApprovalRuleView> => notBuilt()),
  removeRule: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: true }> => notBuilt()),
  list: protectedProcedure
    .input(z.object({ status: z.array(z.enum(STATUSES)).max(5).optional(), cursor: id.optional(), limit: z.number().int().min(1).max(100).default(50) }).default({ limit: 50 }))
    .query(async (): Promise<Page<ApprovalView>> => notBuilt()),
  get: protectedProcedure.input(z.object({ id })).query(async (): Promise<ApprovalView> => notBuilt()),
  /** Requests the viewer could decide now (the navigation's badge). */
  count: protectedProcedure.query(async (): Promise<{ waiting: number }> => notBuilt()),
  approve: protectedProcedure
    .input(z.object({ id, comment: z.string().max(2000).default(""), runAt: z.coerce.date().nullable().default(null) }))
    .mutation(async (): Promise<ApprovalView> => notBuilt()),
  reject: protectedProcedure.input(z.object({ id, comment: z.string().min(1).max(2000) })).mutation(async (): Promise<ApprovalView> => notBuilt()),
});
