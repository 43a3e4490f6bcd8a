import "server-only";
import { heldPermissions, isOwner } from "../auth/access";
import { createRouter, protectedProcedure } from "../trpc";

export const meRouter = createRouter({
  get: protectedProcedure.query(({ ctx }) => ({
    id: ctx.viewer.user.id,
    email: ctx.viewer.user.email,
    name: ctx.viewer.user.name,
    owner: isOwner(ctx.viewer),
    permissions: heldPermissions(ctx.viewer),
  })),
});
