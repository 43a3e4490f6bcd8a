import "server-only";
import { z } from "zod";
import type { ChannelView, NotificationView } from "./_alert-views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (notifications helper owns this file): notification channels;
// secrets go in and never come back.

const id = z.string().min(1).max(64);
const webhook = z.object({ kind: z.literal("webhook"), url: z.string().url().max(2048), secret: z.string().min(16).max(256).optional() });
const slack = z.object({ kind: z.literal("slack"), url: z.string().url().max(2048).optional() });
const email = z.object({
  kind: z.literal("email"),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535).default(587),
  /** starttls: upgrade on 587/25; tls: implicit TLS (465); none: plain (loopback/test only). */
  security: z.enum(["starttls", "tls", "none"]).default("starttls"),
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  from: z.string().email().max(256),
  to: z.array(z.string().email().max(256)).min(1).max(50),
});
const channelConfig = z.discriminatedUnion("kind", [webhook, slack, email]);

export const channelsRouter = createRouter({
  list: protectedProcedure.query(async (): Promise<ChannelView[]> => notBuilt()),
  create: protectedProcedure.input(z.object({ name: z.string().min(1).max(100), enabled: z.boolean().default(true), config: channelConfig })).mutation(async (): Promise<ChannelView> => notBuilt()),
  /** Omitted secrets (secret, url of a Slack channel, password) keep their saved value. */
  update: protectedProcedure
    .input(z.object({ id, name: z.string().min(1).max(100).optional(), enabled: z.boolean().optional(), config: channelConfig.optional() }))
    .mutation(async (): Promise<ChannelView> => notBuilt()),
  remove: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: true }> => notBuilt()),
  /** Sends a test message now and answers how it went (the error, clearly, if it failed). */
  testSend: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: boolean; error: string | null }> => notBuilt()),
  deliveries: protectedProcedure
    .input(z.object({ channelId: id.optional(), alertId: id.optional(), limit: z.number().int().min(1).max(200).default(50) }))
    .query(async (): Promise<NotificationView[]> => notBuilt()),
});
