import "server-only";
import { z } from "zod";
import type { WatchView } from "./_views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (watcher helper owns this file): a deployment, or a stack's
// service, following its tag in the registry.

const id = z.string().min(1).max(64);
const service = z.string().min(1).max(128);
const target = z.union([z.object({ deploymentId: id }), z.object({ stackId: id, service })]);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);

export const watchesRouter = createRouter({
  get: protectedProcedure.input(target).query(async (): Promise<WatchView | null> => notBuilt()),
  /** A stack's services and their watches (null where none). */
  forStack: protectedProcedure.input(z.object({ stackId: id })).query(async (): Promise<{ service: string; watch: WatchView | null; updateAvailable: boolean }[]> => notBuilt()),
  set: protectedProcedure
    .input(
      z.object({
        deploymentId: id.optional(),
        stackId: id.optional(),
        service: service.optional(),
        enabled: z.boolean(),
        intervalSeconds: z.number().int().min(10).max(86_400).default(300),
        minAgeSeconds: z.number().int().min(0).max(30 * 86_400).default(0),
        window: z.object({ days: z.array(z.number().int().min(0).max(6)).max(7), start: hhmm, end: hhmm, timeZone: z.string().min(1).max(64) }).nullable().default(null),
        preApproved: z.boolean().default(false),
      }),
    )
    .mutation(async (): Promise<WatchView> => notBuilt()),
  remove: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<{ ok: true }> => notBuilt()),
  /** Checks the tag now (and rolls out if the rules allow); answers the watch as it is after. */
  checkNow: protectedProcedure.input(z.object({ id })).mutation(async (): Promise<WatchView> => notBuilt()),
});
