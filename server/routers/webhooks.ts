import "server-only";
import type { WebhookCreated, WebhookView } from "./_views";
import { env } from "../env";
import { publicOrigin } from "../http/same-origin";
import { createRouter, protectedProcedure } from "../trpc";
import { createWebhook, listWebhooks, revokeWebhook } from "../webhooks/manage";
import { createWebhookInput, revokeWebhookInput, webhookTargetInput } from "../webhooks/schemas";

// Deploy webhooks of a deployment or a stack; the secret is shown once, at
// creation. The service (server/webhooks/manage.ts) checks the deploy
// permission on the target's host (NOT_FOUND outside the viewer's scope), and
// deploys.approve for "pre-approved"; the procedure ladder audits every call.


export const webhooksRouter = createRouter({
  list: protectedProcedure.input(webhookTargetInput).query(async ({ ctx, input }): Promise<WebhookView[]> => listWebhooks({ db: ctx.db, viewer: ctx.viewer, note: ctx.audit }, input)),
  create: protectedProcedure.input(createWebhookInput).mutation(async ({ ctx, input }): Promise<WebhookCreated> => {
    // The intent goes on record when the secret box is handed out (after the checks).
    const box = async () => (await ctx.fleet()).box;
    return createWebhook({ db: ctx.db, box, viewer: ctx.viewer, origin: publicOrigin(env()), note: ctx.audit }, input);
  }),
  revoke: protectedProcedure.input(revokeWebhookInput).mutation(async ({ ctx, input }): Promise<{ ok: true }> => revokeWebhook({ db: ctx.db, viewer: ctx.viewer, note: ctx.audit }, input)),
});
