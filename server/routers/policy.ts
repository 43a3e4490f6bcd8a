import "server-only";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { canOnHost, hasGlobal, hasPermission } from "../auth/access";
import { deploySpecSchema } from "../../lib/deploy/spec";
import { judgeDeploy, resolvedImageOf } from "../policy/gate";
import { deployPolicySchema, RULES } from "../../lib/policy/rules";
import { getPolicy, getPolicyForViewer, setPolicy } from "../services/policy/policies";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";

// Deploy policies per host group (null: hosts in no group), set by hosts.manage.
const groupId = z.string().min(1).max(64).nullable();

export const policyRouter = createRouter({
  rules: permissionProcedure(["hosts.read", "hosts.manage"]).query(() => RULES),

  get: permissionProcedure(["hosts.read", "hosts.manage"])
    .input(z.object({ hostGroupId: groupId }))
    .query(({ ctx, input }) => getPolicyForViewer(ctx.db, ctx.viewer, input.hostGroupId)),

  set: permissionProcedure("hosts.manage")
    .input(z.object({ hostGroupId: groupId, rules: deployPolicySchema }))
    .mutation(async ({ ctx, input }) => {
      // The default policy (hosts in no group) takes hosts.manage everywhere; a group's, hosts.manage on that group.
      const allowed = input.hostGroupId
        ? hasGlobal(ctx.viewer, "hosts.manage") || ctx.viewer.grants.some((g) => g.permissions.has("hosts.manage") && g.scope.type === "hostGroup" && g.scope.id === input.hostGroupId)
        : hasGlobal(ctx.viewer, "hosts.manage");
      if (!allowed) throw new TRPCError({ code: "FORBIDDEN", message: "You need the hosts.manage permission on this host group." });
      if (input.hostGroupId && !(await ctx.db.hostGroup.findUnique({ where: { id: input.hostGroupId } }))) {
        throw new TRPCError({ code: "NOT_FOUND", message: "No such host group." });
      }
      ctx.audit.target = { type: "deployPolicy", id: input.hostGroupId ?? "default" };
      return setPolicy(ctx.db, input.hostGroupId, input.rules, ctx.viewer.user.id);
    }),

  /** What the policy says about a spec on a host, for the form to show as you type. */
  check: hostScopedProcedure("containers.read")
    .input(z.object({ spec: deploySpecSchema }))
    .query(async ({ ctx, input }) => {
      if (!hasPermission(ctx.viewer, "containers.deploy")) throw new TRPCError({ code: "FORBIDDEN", message: "You need the containers.deploy permission." });
      // The same gate a deploy goes through; the image is judged by what the host resolves it to when the host answers.
      const { fleet } = await ctx.fleet();
      const client = fleet.client(ctx.host.id);
      const verdict = await judgeDeploy({
        db: ctx.db,
        viewer: ctx.viewer,
        host: ctx.host,
        spec: input.spec,
        override: false,
        image: async (ref) => {
          try {
            return resolvedImageOf(await client.inspectImage(ref, { timeoutMs: 5_000 }));
          } catch {
            return undefined;
          }
        },
      });
      return { violations: verdict.violations, mayOverride: verdict.mayOverride };
    }),
});
