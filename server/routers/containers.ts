import "server-only";
import { z } from "zod";
import { isFleetError } from "../fleet/errors";
import { createRouter, hostScopedProcedure } from "../trpc";

// Containers on one host. Reads fall back to the last known list (marked
// stale) when the host is down, so a page never waits on an unreachable host.

export const containersRouter = createRouter({
  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => {
    const { fleet } = await ctx.fleet();
    try {
      const containers = await fleet.client(ctx.host.id).containers({ all: true, timeoutMs: 5_000 });
      return { containers, stale: false, at: new Date(), message: null as string | null };
    } catch (e) {
      if (!isFleetError(e)) throw e;
      const last = fleet.snapshot(ctx.host.id);
      return { containers: last.containers ?? [], stale: true, at: last.containersAt, message: e.message };
    }
  }),

  logs: hostScopedProcedure("containers.logs")
    .input(z.object({ containerId: z.string().min(1).max(128), tail: z.number().int().min(1).max(10_000).default(500) }))
    .query(async ({ ctx, input }) => {
      const { fleet } = await ctx.fleet();
      const lines: { stream: string; text: string }[] = [];
      for await (const frame of fleet.client(ctx.host.id).logs(input.containerId, { tail: input.tail, timeoutMs: 10_000 })) lines.push(frame);
      return lines;
    }),

  /** Follows a container's log over SSE. When the browser goes away the signal aborts and the agent's stream is closed. */
  follow: hostScopedProcedure("containers.logs")
    .input(z.object({ containerId: z.string().min(1).max(128), tail: z.number().int().min(0).max(10_000).default(200) }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { fleet } = await ctx.fleet();
      yield* fleet.client(ctx.host.id).logs(input.containerId, { follow: true, tail: input.tail, signal, timeoutMs: 10_000 });
    }),
});
