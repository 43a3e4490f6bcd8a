import "server-only";
import { z } from "zod";
import { bindRole, createUser, listUsers, setUserDisabled, setUserPassword, unbindRole } from "../services/users/manage-users";
import { bindRoleSchema, createUserSchema, idSchema, passwordSchema } from "../services/users/schemas";
import { createRouter, permissionProcedure } from "../trpc";

const manage = permissionProcedure("users.manage");

export const usersRouter = createRouter({
  list: manage.query(({ ctx }) => listUsers(ctx.db)),

  create: manage.input(createUserSchema).mutation(async ({ ctx, input }) => {
    const user = await createUser(ctx.db, ctx.viewer, input);
    ctx.audit.target = { type: "user", id: user.id };
    return user;
  }),

  setDisabled: manage
    .input(z.object({ userId: idSchema, disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "user", id: input.userId };
      return setUserDisabled(ctx.db, ctx.viewer, input);
    }),

  setPassword: manage
    .input(z.object({ userId: idSchema, password: passwordSchema }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "user", id: input.userId };
      const result = await setUserPassword(ctx.db, ctx.viewer, input);
      // The record names the API tokens the reset ended (no key may say "token": the writer would mask it).
      ctx.audit.params = { userId: input.userId, revoked: result.revoked };
      return result;
    }),

  bindRole: manage.input(bindRoleSchema).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: "user", id: input.userId };
    return bindRole(ctx.db, ctx.viewer, input);
  }),

  unbindRole: manage.input(z.object({ bindingId: idSchema })).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: "roleBinding", id: input.bindingId };
    return unbindRole(ctx.db, ctx.viewer, input);
  }),
});
