import "server-only";
import { z } from "zod";
import type { WebhookCreated, WebhookView } from "./_views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (webhooks helper owns this file): deploy webhooks of a
// deployment or a stack; the secret is shown once, at creation.

const id = z.string().min(1).max(64);
const target = z.union([z.object({ deploymentId: id }), z.object({ stackId: id })]);

export const webhooksRouter = createRouter({
  list: protectedProcedure.input(target).query(async (): Promise<WebhookView[]> => notBuilt()),
  create: protectedProcedure
    .input(
      z.object({
        deploymentId: id.optional(),
        stackId: id.optional(),
        name: z.string().min(1).max(100),
        tagPattern: z.string().min(1).max(128).nullable().default(null),
        sourceCidrs: z.array(z.string().min(1).max(64)).max(32).default([]),
        expiresInDays: z.number().int().min(1).max(3650).nullable().default(null),
        preApproved: z.boolean().default(false),
      }),
    )
    .mutation(async (): Promise<WebhookCreated> => notBuilt()),
  revoke: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: true }> => notBuilt()),
});
