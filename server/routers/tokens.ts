import "server-only";
import { createToken, listTokens, revokeToken, tokenOptions } from "../tokens/manage-tokens";
import { createTokenSchema, tokenIdSchema } from "../tokens/schemas";
import { createRouter, permissionProcedure } from "../trpc";

// A user's own API tokens. The secret is in create's answer only: never listed,
// never in the audit log (params are set explicitly below).

const manage = permissionProcedure("tokens.manage");

export const tokensRouter = createRouter({
  options: manage.query(({ ctx }) => tokenOptions(ctx.db, ctx.viewer)),

  list: manage.query(({ ctx }) => listTokens(ctx.db, ctx.viewer)),

  create: manage.input(createTokenSchema).mutation(async ({ ctx, input }) => {
    ctx.audit.params = input;
    const created = await createToken(ctx.db, ctx.viewer, input);
    ctx.audit.target = { type: "apiToken", id: created.token.id };
    // No key may contain "token" or "secret" here: the audit writer would mask it.
    ctx.audit.params = { ...input, prefix: created.token.prefix };
    return created;
  }),

  revoke: manage.input(tokenIdSchema).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: "apiToken", id: input.id };
    return revokeToken(ctx.db, ctx.viewer, input);
  }),
});
