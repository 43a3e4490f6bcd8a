import "server-only";
import { z } from "zod";
import { deploySpecSchema } from "../../lib/deploy/spec";
import { deployPolicySchema, RULES } from "../../lib/policy/rules";
import { checkDeploySpec } from "../services/policy/check-deploy-spec";
import { getPolicyForViewer, setPolicy } from "../services/policy/policies";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";

// Deploy policies per host group (null: hosts in no group), set by hosts.manage.
const groupId = z.string().min(1).max(64).nullable();

export const policyRouter = createRouter({
  rules: permissionProcedure(["hosts.read", "hosts.manage"]).query(() => RULES),

  get: permissionProcedure(["hosts.read", "hosts.manage"])
    .input(z.object({ hostGroupId: groupId }))
    .query(({ ctx, input }) => getPolicyForViewer({ db: ctx.db, viewer: ctx.viewer, hostGroupId: input.hostGroupId })),

  set: permissionProcedure("hosts.manage")
    .input(z.object({ hostGroupId: groupId, rules: deployPolicySchema }))
    .mutation(({ ctx, input }) => {
      ctx.audit.target = { type: "deployPolicy", id: input.hostGroupId ?? "default" };
      return setPolicy({ db: ctx.db, viewer: ctx.viewer, hostGroupId: input.hostGroupId, rules: input.rules });
    }),

  /** What the policy says about a spec on a host, for the form to show as you type. */
  check: hostScopedProcedure("containers.read")
    .input(z.object({ spec: deploySpecSchema }))
    .query(({ ctx, input }) => checkDeploySpec({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, host: ctx.host, spec: input.spec })),
});
