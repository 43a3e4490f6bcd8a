import "server-only";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { ChannelView, NotificationView } from "./_alert-views";
import { hasPermission } from "../auth/access";
import { auditableInput, channelConfigInput } from "../notify/config";
import { createChannel, listChannels, listDeliveries, removeChannel, testSendChannel, updateChannel, type ChannelCreated } from "../notify/channels";
import { createRouter, protectedProcedure } from "../trpc";

// Notification channels (alerts.manage): secrets go in and never come back
// (hasSecret only); a new webhook channel's generated signing secret is
// answered once. Saving checks the settings (a bad URL, an SMTP server that
// can't be reached or refuses the login is refused with the reason).

const id = z.string().min(1).max(64);
const name = z.string().trim().min(1, "name it").max(100);

// The audit record keeps the input without its secrets (a Slack URL is one), even when the input is refused.
// Runs before the permission check so a denied call is recorded the same way.
const manage = protectedProcedure.use(async ({ ctx, getRawInput, next }) => {
  ctx.audit.params = auditableInput(await getRawInput().catch(() => null));
  if (!hasPermission(ctx.viewer, "alerts.manage")) throw new TRPCError({ code: "FORBIDDEN", message: "You need the alerts.manage permission." });
  return next();
});

const deps = async (ctx: { db: Parameters<typeof listChannels>[0]; fleet: () => Promise<{ box: import("../secrets/cipher").SecretBox }> }) => ({ db: ctx.db, box: (await ctx.fleet()).box });

export const channelsRouter = createRouter({
  list: manage.query(async ({ ctx }): Promise<ChannelView[]> => listChannels(ctx.db)),
  create: manage
    .input(z.object({ name, enabled: z.boolean().default(true), config: channelConfigInput }))
    .mutation(async ({ ctx, input }): Promise<ChannelCreated> => {
      const created = await createChannel(await deps(ctx), input, ctx.viewer.user.id);
      ctx.audit.target = { type: "alertChannel", id: created.id };
      return created;
    }),
  /** Omitted secrets (secret, url of a Slack channel, password) keep their saved value. */
  update: manage
    .input(z.object({ id, name: name.optional(), enabled: z.boolean().optional(), config: channelConfigInput.optional() }))
    .mutation(async ({ ctx, input }): Promise<ChannelView> => {
      ctx.audit.target = { type: "alertChannel", id: input.id };
      return updateChannel(await deps(ctx), input);
    }),
  remove: manage.input(z.object({ id })).mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
    ctx.audit.target = { type: "alertChannel", id: input.id };
    await removeChannel(ctx.db, input.id);
    return { ok: true };
  }),
  /** Sends a test message now and answers how it went (the error, clearly, if it failed). */
  testSend: manage.input(z.object({ id })).mutation(async ({ ctx, input }): Promise<{ ok: boolean; error: string | null }> => {
    ctx.audit.target = { type: "alertChannel", id: input.id };
    return testSendChannel(await deps(ctx), input.id);
  }),
  deliveries: manage
    .input(z.object({ channelId: id.optional(), alertId: id.optional(), limit: z.number().int().min(1).max(200).default(50) }))
    .query(async ({ ctx, input }): Promise<NotificationView[]> => listDeliveries(ctx.db, input)),
});
