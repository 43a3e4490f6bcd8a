import "server-only";
import { on } from "node:events";
import { z } from "zod";
import type { OperationProgress } from "../fleet/fleet";
import { createRouter, protectedProcedure } from "../trpc";

// Progress of a user's own long operations (deploy, pull, push). The console
// picks a token, subscribes here, then starts the operation with that token.
export const operationsRouter = createRouter({
  progress: protectedProcedure
    .input(z.object({ token: z.string().regex(/^[A-Za-z0-9-]{8,64}$/) }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { fleet } = await ctx.fleet();
      const key = `${ctx.viewer.user.id}:${input.token}`;
      for await (const [p] of on(fleet, "progress", { signal }) as AsyncIterable<[OperationProgress]>) {
        if (p.key !== key) continue;
        const { key: _key, ...event } = p;
        yield event;
        if (p.phase === "done" || p.phase === "error") return;
      }
    }),
});
