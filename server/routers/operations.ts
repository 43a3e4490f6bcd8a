import "server-only";
import { z } from "zod";
import { watchOperationProgress } from "../services/operations/progress";
import { createRouter, protectedProcedure } from "../trpc";

// Progress of a user's own long operations (deploy, pull, push).
export const operationsRouter = createRouter({
  progress: protectedProcedure
    .input(z.object({ token: z.string().regex(/^[A-Za-z0-9-]{8,64}$/) }))
    .subscription(({ ctx, input, signal }) => watchOperationProgress({ viewer: ctx.viewer, fleet: ctx.fleet, token: input.token, signal })),
});
