import "server-only";
import { z } from "zod";
import { createRegistry, listRegistries, registryInputSchema, removeRegistry, updateRegistry } from "../services/registries/registries";
import { createRouter, permissionProcedure, protectedProcedure } from "../trpc";

const id = z.string().min(1).max(64);

export const registriesRouter = createRouter({
  /** Names and addresses only (to pick one for a pull or push); credentials never leave the server. */
  list: protectedProcedure.query(({ ctx }) => listRegistries(ctx.db)),

  create: permissionProcedure("registries.manage")
    .input(registryInputSchema)
    .mutation(async ({ ctx, input }) => {
      const row = await createRegistry(ctx.db, (await ctx.fleet()).box, input);
      ctx.audit.target = { type: "registry", id: row.id };
      return row;
    }),

  update: permissionProcedure("registries.manage")
    .input(registryInputSchema.partial().extend({ id }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "registry", id: input.id };
      const { id: registryId, ...rest } = input;
      return updateRegistry(ctx.db, (await ctx.fleet()).box, registryId, rest);
    }),

  remove: permissionProcedure("registries.manage")
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "registry", id: input.id };
      await removeRegistry(ctx.db, input.id);
      return { removed: true };
    }),
});
