import "server-only";
import { z } from "zod";
import { alertScopeSchema, labelSelectorSchema } from "../../lib/alerts/kinds";
import type { AlertDetail, AlertRuleView, AlertView, SilenceView } from "./_alert-views";
import type { Page } from "./_views";
import { createRouter, permissionProcedure, protectedProcedure } from "../trpc";
import { hasPermission } from "../auth/access";
import { AppError } from "../errors";
import { verifyAuditNow } from "../alerts/audit-verify";
import { countFiring, getAlert, listAlerts } from "../alerts/queries";
import { createRule, listRules, removeRule, ruleInputSchema, ruleUpdateSchema, updateRule } from "../alerts/rules";
import { createSilence, endSilence, listSilences } from "../alerts/silences";

// Alerts, their rules and silences (server/alerts). Alerts are shown where
// the viewer holds alerts.read (alerts about no host only with it
// everywhere); rules need alerts.read to see and alerts.manage to change;
// silences need alerts.silence over their scope. Mutations are audited by the
// tRPC middleware. Channels are in channels.ts, stats history in stats.ts.

const id = z.string().min(1).max(64);

function requireRead(viewer: Parameters<typeof hasPermission>[0]): void {
  if (!hasPermission(viewer, "alerts.read")) throw new AppError("FORBIDDEN", "You need the alerts.read permission.");
}

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
    .query(async ({ ctx, input }): Promise<Page<AlertView>> => {
      requireRead(ctx.viewer);
      return listAlerts(ctx.db, ctx.viewer, input);
    }),
  get: protectedProcedure.input(z.object({ id })).query(async ({ ctx, input }): Promise<AlertDetail> => getAlert(ctx.db, ctx.viewer, input.id)),
  /** Firing alerts the viewer can see (the navigation's badge); zero without alerts.read. */
  count: protectedProcedure.query(async ({ ctx }): Promise<{ firing: number; critical: number }> =>
    hasPermission(ctx.viewer, "alerts.read") ? countFiring(ctx.db, ctx.viewer) : { firing: 0, critical: 0 },
  ),
  rules: permissionProcedure("alerts.read").query(async ({ ctx }): Promise<AlertRuleView[]> => listRules(ctx.db)),
  createRule: permissionProcedure("alerts.manage")
    .input(ruleInputSchema)
    .mutation(async ({ ctx, input }): Promise<AlertRuleView> => {
      const rule = await createRule(ctx.db, ctx.viewer, input);
      ctx.audit.target = { type: "alertRule", id: rule.id };
      return rule;
    }),
  updateRule: permissionProcedure("alerts.manage")
    .input(ruleUpdateSchema)
    .mutation(async ({ ctx, input }): Promise<AlertRuleView> => {
      ctx.audit.target = { type: "alertRule", id: input.id };
      return updateRule(ctx.db, ctx.viewer, input);
    }),
  removeRule: permissionProcedure("alerts.manage")
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
      ctx.audit.target = { type: "alertRule", id: input.id };
      return removeRule(ctx.db, ctx.viewer, input.id);
    }),
  silences: protectedProcedure
    .input(z.object({ includeEnded: z.boolean().default(false) }).default({ includeEnded: false }))
    .query(async ({ ctx, input }): Promise<SilenceView[]> => listSilences(ctx.db, ctx.viewer, input.includeEnded)),
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
    .mutation(async ({ ctx, input }): Promise<SilenceView> => {
      if (input.scopeKey?.startsWith("host:")) ctx.audit.hostId = input.scopeKey.slice(5);
      const silence = await createSilence(ctx.db, ctx.viewer, input);
      ctx.audit.target = { type: "silence", id: silence.id };
      return silence;
    }),
  endSilence: protectedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }): Promise<SilenceView> => {
    ctx.audit.target = { type: "silence", id: input.id };
    return endSilence(ctx.db, ctx.viewer, input.id);
  }),
  /** Verifies the audit chain now (also runs daily); a broken chain fires auditChainBroken. */
  verifyAudit: permissionProcedure("audit.read").mutation(async ({ ctx }): Promise<{ ok: boolean; message: string; checked: number }> => {
    const result = await verifyAuditNow(ctx.db);
    ctx.audit.params = result;
    return result;
  }),
});
