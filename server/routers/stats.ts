import "server-only";
import { z } from "zod";
import type { StatsPoint } from "./_alert-views";
import { statsHistory } from "../stats/history";
import { createRouter, permissionProcedure } from "../trpc";

// The last 24 hours of a host's or a container's CPU, memory, network and
// block I/O at 1-minute resolution (server/stats/collector.ts writes them).
// containers.read on the host for a container, hosts.read for the host itself.

const id = z.string().min(1).max(64);

export const statsRouter = createRouter({
  history: permissionProcedure(["containers.read", "hosts.read"])
    .input(z.object({ hostId: id, containerId: z.string().min(1).max(128).optional(), hours: z.number().int().min(1).max(24).default(24) }))
    .query(async ({ ctx, input }): Promise<{ points: StatsPoint[]; resolutionSeconds: number }> => {
      ctx.audit.hostId = input.hostId;
      if (input.containerId) ctx.audit.target = { type: "container", id: input.containerId };
      const { points, resolutionSeconds } = await statsHistory(ctx.db, ctx.viewer, input);
      return { points, resolutionSeconds };
    }),
});
