import "server-only";
import { auditPageSchema } from "../audit/query";
import { listAuditActors } from "../services/audit/list-actors";
import { listAuditHosts } from "../services/audit/list-hosts";
import { getAuditPage, listAuditEvents } from "../services/audit/audit-page";
import { verifyAuditLog } from "../services/audit/verify-audit-log";
import { createRouter, permissionProcedure } from "../trpc";

export const auditRouter = createRouter({
  list: permissionProcedure("audit.read")
    .input(auditPageSchema)
    .query(({ ctx, input }) => listAuditEvents({ db: ctx.db, query: input })),

  /** The console's page: audit.list plus readable names (and links) for its targets and hosts. */
  page: permissionProcedure("audit.read")
    .input(auditPageSchema)
    .query(({ ctx, input }) => getAuditPage({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, query: input })),

  actors: permissionProcedure("audit.read").query(({ ctx }) => listAuditActors(ctx.db)),

  /** Hosts for the page's host filter: those the viewer may read. */
  hosts: permissionProcedure("audit.read").query(({ ctx }) => listAuditHosts(ctx.db, ctx.viewer)),

  // Recorded like a mutation: who checked the chain, and what they found.
  verify: permissionProcedure("audit.read").mutation(async ({ ctx }) => {
    const result = await verifyAuditLog({ db: ctx.db });
    ctx.audit.params = { ok: result.ok, checked: result.checked, firstBad: result.firstBad?.id ?? null, checkpoint: result.checkpoint.status };
    return result;
  }),
});
