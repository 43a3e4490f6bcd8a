import "server-only";
import { z } from "zod";
import { alertKindSchema, alertScopeSchema, labelSelectorSchema, SEVERITIES } from "../../lib/alerts/kinds";
import type { AlertDetail, AlertRuleView, AlertView, SilenceView } from "./_alert-views";
import type { Page } from "./_views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (alert-engine helper owns this file): alerts, their rules
// and silences. Channels are in channels.ts, stats history in stats.ts.

const id = z.string().min(1).max(64);
const ruleInput = z.object({
  name: z.string().min(1).max(100),
  kind: alertKindSchema,
  severity: z.enum(SEVERITIES).default("warning"),
  scopeKey: alertScopeSchema.default("all"),
  labelSelector: labelSelectorSchema.default({}),
  params: z.record(z.string(), z.unknown()).default({}),
  forSeconds: z.number().int().min(0).max(86_400).default(0),
  repeatMinutes: z.number().int().min(0).max(10_080).default(240),
  channelIds: z.array(id).max(20).default([]),
  enabled: z.boolean().default(true),
});

export const alertsRouter = createRouter({
  list: protectedProcedure
    .input(
      z
        .object({
          status: z.array(z.enum(["pending", "firing", "resolved"])).max(3).optional(),
          hostId: id.optional(),
          ruleId: id.optional(),
          cursor: id.optional(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .default({ limit: 50 }),
    )
    .query(async (): Promise<Page<AlertView>> => notBuilt()),
  get: protectedProcedure.input(z.object({ id })).query(async (): Promise<AlertDetail> => notBuilt()),
  /** Firing alerts the viewer can see (the navigation's badge). */
  count: protectedProcedure.query(async (): Promise<{ firing: number; critical: number }> => notBuilt()),
  rules: protectedProcedure.query(async (): Promise<AlertRuleView[]> => notBuilt()),
  createRule: protectedProcedure.input(ruleInput).mutation(async (): Promise<AlertRuleView> => notBuilt()),
  updateRule: protectedProcedure.input(ruleInput.partial().extend({ id })).mutation(async (): Promise<AlertRuleView> => notBuilt()),
  removeRule: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: true }> => notBuilt()),
  silences: protectedProcedure.input(z.object({ includeEnded: z.boolean().default(false) }).default({ includeEnded: false })).query(async (): Promise<SilenceView[]> => notBuilt()),
  silence: protectedProcedure
    .input(
      z.object({
        ruleId: id.nullable().default(null),
        scopeKey: alertScopeSchema.nullable().default(null),
        labelSelector: labelSelectorSchema.default({}),
        comment: z.string().min(1).max(2000),
        endsAt: z.coerce.date(),
      }),
    )
    .mutation(async (): Promise<SilenceView> => notBuilt()),
  endSilence: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<SilenceView> => notBuilt()),
  /** Verifies the audit chain now (also runs daily); a broken chain fires auditChainBroken. */
  verifyAudit: protectedProcedure.mutation(async (): Promise<{ ok: boolean; message: string; checked: number }> => notBuilt()),
});
