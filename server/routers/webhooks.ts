import "server-only";
import { z } from "zod";
import type { WebhookCreated, WebhookView } from "./_views";
import { env } from "../env";
import { publicOrigin } from "../http/same-origin";
import { createRouter, protectedProcedure } from "../trpc";
import { createWebhook, listWebhooks, MAX_SOURCE_BLOCKS, revokeWebhook } from "../webhooks/manage";

// Deploy webhooks of a deployment or a stack; the secret is shown once, at
// creation. The service (server/webhooks/manage.ts) checks the deploy
// permission on the target's host (NOT_FOUND outside the viewer's scope), and
// deploys.approve for "pre-approved"; the procedure ladder audits every call.

const id = z.string().min(1).max(64);
const target = z.union([z.strictObject({ deploymentId: id }), z.strictObject({ stackId: id })]);

export const createWebhookInput = z.object({
  deploymentId: id.optional(),
  stackId: id.optional(),
  name: z.string().min(1).max(100),
  tagPattern: z.string().min(1).max(128).nullable().default(null),
  sourceCidrs: z.array(z.string().min(1).max(64)).max(MAX_SOURCE_BLOCKS).default([]),
  expiresInDays: z.number().int().min(1).max(3650).nullable().default(null),
  preApproved: z.boolean().default(false),
});

export const webhooksRouter = createRouter({
  list: protectedProcedure.input(target).query(async ({ ctx, input }): Promise<WebhookView[]> => listWebhooks({ db: ctx.db, viewer: ctx.viewer, note: ctx.audit }, input)),
  create: protectedProcedure.input(createWebhookInput).mutation(async ({ ctx, input }): Promise<WebhookCreated> => {
    // The intent goes on record when the secret box is handed out (after the checks).
    const box = async () => (await ctx.fleet()).box;
    return createWebhook({ db: ctx.db, box, viewer: ctx.viewer, origin: publicOrigin(env()), note: ctx.audit }, input);
  }),
  revoke: protectedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }): Promise<{ ok: true }> => revokeWebhook({ db: ctx.db, viewer: ctx.viewer, note: ctx.audit }, input)),
});
