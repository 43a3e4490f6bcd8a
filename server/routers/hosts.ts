import "server-only";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { hasGlobal } from "../auth/access";
import { createHostGroup, listHostGroups, listHosts } from "../services/hosts/list-hosts";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";

export const hostsRouter = createRouter({
  list: permissionProcedure("hosts.read").query(({ ctx }) => listHosts(ctx.db, ctx.coverage)),

  get: hostScopedProcedure("hosts.read").query(({ ctx }) => ctx.host),

  groups: permissionProcedure("hosts.read").query(({ ctx }) => listHostGroups(ctx.db, ctx.coverage)),

  createGroup: permissionProcedure("hosts.manage")
    .input(z.object({ name: z.string().trim().min(1).max(60), description: z.string().trim().max(300).default("") }))
    .mutation(async ({ ctx, input }) => {
      if (!hasGlobal(ctx.viewer, "hosts.manage")) {
        throw new TRPCError({ code: "FORBIDDEN", message: "Creating host groups needs hosts.manage everywhere." });
      }
      const group = await createHostGroup(ctx.db, input);
      ctx.audit.target = { type: "hostGroup", id: group.id };
      return group;
    }),
});
