import "server-only";
import { createSecret, createSecretInput, deleteSecret, deleteSecretInput, listSecrets, updateSecret, updateSecretInput } from "../services/secrets/secrets";
import { TRPCError } from "@trpc/server";
import { hasPermission } from "../auth/access";
import { createRouter, permissionProcedure, publicProcedure } from "../trpc";

// The secrets stacks mount (secrets.manage, global). Values go in, never out:
// no answer carries one, and the audit records name the secret only.

/**
 * The audit record names the secret, never its value: its params are set
 * before anything can refuse the call (no session, no permission, bad input),
 * so the raw input (with the value) is never what gets recorded.
 */
const manage = publicProcedure
  .use(async ({ ctx, getRawInput, next }) => {
    const raw = (await getRawInput().catch(() => null)) as Record<string, unknown> | null;
    const pick = (k: string) => (raw && typeof raw === "object" && typeof raw[k] === "string" ? (raw[k] as string).slice(0, 200) : undefined);
    ctx.audit.params = { id: pick("id"), name: pick("name"), description: pick("description"), valueGiven: raw !== null && typeof raw === "object" && "value" in raw };
    return next();
  })
  .use(({ ctx, next }) => {
    if (!ctx.viewer) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
    if (!hasPermission(ctx.viewer, "secrets.manage")) throw new TRPCError({ code: "FORBIDDEN", message: "You need the secrets.manage permission." });
    return next({ ctx: { viewer: ctx.viewer } });
  });

export const secretsRouter = createRouter({
  list: permissionProcedure("secrets.manage").query(({ ctx }) => listSecrets(ctx.db)),

  create: manage.input(createSecretInput).mutation(async ({ ctx, input }) => {
    const row = await createSecret(ctx.db, (await ctx.fleet()).box, input);
    ctx.audit.target = { type: "secret", id: row.id };
    return row;
  }),

  update: manage.input(updateSecretInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: "secret", id: input.id };
    return updateSecret(ctx.db, (await ctx.fleet()).box, input);
  }),

  delete: manage.input(deleteSecretInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: "secret", id: input.id };
    const row = await deleteSecret(ctx.db, input.id);
    ctx.audit.params = { id: row.id, name: row.name };
    return { id: row.id };
  }),
});
