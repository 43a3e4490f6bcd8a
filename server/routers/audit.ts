import "server-only";
import { loadCheckpointEvidence } from "../audit/checkpoint";
import { auditPageSchema, queryAuditPage } from "../audit/query";
import { verifyAuditChain } from "../audit/verify";
import { dataDir, env } from "../env";
import { listAuditActors } from "../services/audit/list-actors";
import { createRouter, permissionProcedure } from "../trpc";

export const auditRouter = createRouter({
  list: permissionProcedure("audit.read")
    .input(auditPageSchema)
    .query(async ({ ctx, input }) => {
      const page = await queryAuditPage(ctx.db, input);
      return {
        ...page,
        events: page.events.map((e) => ({ ...e, id: e.id.toString() })),
      };
    }),

  actors: permissionProcedure("audit.read").query(({ ctx }) => listAuditActors(ctx.db)),

  // Recorded like a mutation: who checked the chain, and what they found.
  verify: permissionProcedure("audit.read").mutation(async ({ ctx }) => {
    const e = env();
    const result = await verifyAuditChain(ctx.db, { checkpoint: await loadCheckpointEvidence(dataDir(e), e.BERTH_AUDIT_CHECKPOINT_KEY) });
    ctx.audit.params = { ok: result.ok, checked: result.checked, firstBad: result.firstBad?.id ?? null, checkpoint: result.checkpoint.status };
    return result;
  }),
});
