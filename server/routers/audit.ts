import "server-only";
import { loadCheckpointEvidence } from "../audit/checkpoint";
import { auditPageSchema, queryAuditPage } from "../audit/query";
import { verifyAuditChain } from "../audit/verify";
import { dataDir, env } from "../env";
import { listAuditActors } from "../services/audit/list-actors";
import { listAuditHosts } from "../services/audit/list-hosts";
import { nameAuditTargets, type ContainerLists } from "../services/audit/name-targets";
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

  /** The console's page: audit.list plus readable names (and links) for its targets and hosts. */
  page: permissionProcedure("audit.read")
    .input(auditPageSchema)
    .query(async ({ ctx, input }) => {
      const page = await queryAuditPage(ctx.db, input);
      // Names of containers no deployment knows come from the fleet's last lists (in memory; no host is contacted).
      const fleet = await ctx.fleet().then((s) => s.fleet, () => null);
      const containersOf: ContainerLists = (hostId) => fleet?.snapshot(hostId).containers ?? null;
      const names = await nameAuditTargets(ctx.db, ctx.viewer, page.events, containersOf);
      return { ...page, events: page.events.map((e) => ({ ...e, id: e.id.toString() })), names };
    }),

  actors: permissionProcedure("audit.read").query(({ ctx }) => listAuditActors(ctx.db)),

  /** Hosts for the page's host filter: those the viewer may read. */
  hosts: permissionProcedure("audit.read").query(({ ctx }) => listAuditHosts(ctx.db, ctx.viewer)),

  // Recorded like a mutation: who checked the chain, and what they found.
  verify: permissionProcedure("audit.read").mutation(async ({ ctx }) => {
    const e = env();
    const result = await verifyAuditChain(ctx.db, { checkpoint: await loadCheckpointEvidence(dataDir(e), e.BERTH_AUDIT_CHECKPOINT_KEY) });
    ctx.audit.params = { ok: result.ok, checked: result.checked, firstBad: result.firstBad?.id ?? null, checkpoint: result.checkpoint.status };
    return result;
  }),
});
