import "server-only";
import { z } from "zod";
import type { WatchView } from "./_views";
import { createRouter, protectedProcedure } from "../trpc";
import { checkWatchNow, getWatch, removeWatch, setWatch, watchesForStack, watchSettingsSchema } from "../watch/watches";
import { AppError } from "../errors";

// A deployment, or a stack's service, following its tag in the registry
// (server/watch). Reading needs containers.read / stacks.read on the host;
// changing needs containers.deploy / stacks.deploy there (checked by the
// service against the target's host, failing closed).

const id = z.string().min(1).max(64);
const service = z.string().min(1).max(128);
const target = z.union([z.object({ deploymentId: id }), z.object({ stackId: id, service })]);

function targetOf(input: { deploymentId?: string; stackId?: string; service?: string }) {
  if (input.deploymentId && !input.stackId && !input.service) return { deploymentId: input.deploymentId };
  if (input.stackId && input.service && !input.deploymentId) return { stackId: input.stackId, service: input.service };
  throw new AppError("BAD_REQUEST", "Name either a deploymentId, or a stackId and its service.");
}

export const watchesRouter = createRouter({
  get: protectedProcedure.input(target).query(({ ctx, input }): Promise<WatchView | null> => getWatch({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet }, input)),
  /** A stack's services and their watches (null where none). */
  forStack: protectedProcedure
    .input(z.object({ stackId: id }))
    .query(({ ctx, input }): Promise<{ service: string; watch: WatchView | null; updateAvailable: boolean }[]> =>
      watchesForStack({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet }, input.stackId),
    ),
  set: protectedProcedure
    .input(
      watchSettingsSchema.extend({
        deploymentId: id.optional(),
        stackId: id.optional(),
        service: service.optional(),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<WatchView> => {
      const t = targetOf(input);
      ctx.audit.target = "deploymentId" in t ? { type: "deployment", id: t.deploymentId } : { type: "stack", id: t.stackId };
      const { deploymentId: _d, stackId: _s, service: _v, ...settings } = input;
      return setWatch({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit }, t, settings);
    }),
  remove: protectedProcedure.input(z.object({ id })).mutation(({ ctx, input }): Promise<{ ok: true }> => {
    ctx.audit.target = { type: "watch", id: input.id };
    return removeWatch({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit }, input.id);
  }),
  /** Checks the tag now (and rolls out if the rules allow); answers the watch as it is after. */
  checkNow: protectedProcedure.input(z.object({ id })).mutation(({ ctx, input }): Promise<WatchView> => {
    ctx.audit.target = { type: "watch", id: input.id };
    return checkWatchNow({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit }, input.id);
  }),
});
