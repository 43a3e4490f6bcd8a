import "server-only";
import { describeViewer } from "../services/users/describe-viewer";
import { createRouter, protectedProcedure } from "../trpc";

export const meRouter = createRouter({
  get: protectedProcedure.query(({ ctx }) => describeViewer(ctx.viewer)),
});
