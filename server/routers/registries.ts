import "server-only";
import { z } from "zod";
import { createRegistry, listRegistries, listRegistryChoices, registryInputSchema, removeRegistry, updateRegistry } from "../services/registries/registries";
import { createRouter, permissionProcedure } from "../trpc";

const id = z.string().min(1).max(64);

export const registriesRouter = createRouter({
  /** The saved registries with their user names, for Settings. Passwords never leave the server. */
  list: permissionProcedure("registries.manage").query(({ ctx }) => listRegistries(ctx.db)),

  /**
   * Ids, names and addresses only, to pick one for a deploy, pull or push: for
   * whoever may do one of those somewhere (each of them checks its host again).
   */
  choices: permissionProcedure(["registries.manage", "containers.deploy", "images.pull"]).query(({ ctx }) => listRegistryChoices(ctx.db)),

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
