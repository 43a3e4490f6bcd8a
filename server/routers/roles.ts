import "server-only";
import { z } from "zod";
import { createRole, deleteRole, listRolesForViewer, updateRole } from "../services/roles/manage-roles";
import { createRoleSchema, updateRoleSchema } from "../services/roles/schemas";
import { createRouter, permissionProcedure } from "../trpc";

export const rolesRouter = createRouter({
  list: permissionProcedure(["users.manage", "roles.manage"]).query(({ ctx }) => listRolesForViewer({ db: ctx.db, viewer: ctx.viewer })),

  create: permissionProcedure("roles.manage")
    .input(createRoleSchema)
    .mutation(async ({ ctx, input }) => {
      const role = await createRole(ctx.db, ctx.viewer, input);
      ctx.audit.target = { type: "role", id: role.id };
      return role;
    }),

  update: permissionProcedure("roles.manage")
    .input(updateRoleSchema)
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "role", id: input.id };
      return updateRole(ctx.db, ctx.viewer, input);
    }),

  delete: permissionProcedure("roles.manage")
    .input(z.object({ id: z.string().min(1).max(64) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "role", id: input.id };
      return deleteRole(ctx.db, input.id);
    }),
});
