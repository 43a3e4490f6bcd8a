import "server-only";
import { z } from "zod";
import type { StatsPoint } from "./_alert-views";
import { createRouter, protectedProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (stats helper owns this file): the last 24 hours of a host's
// or a container's CPU, memory, network and block I/O at 1-minute resolution.

const id = z.string().min(1).max(64);

export const statsRouter = createRouter({
  history: protectedProcedure
    .input(z.object({ hostId: id, containerId: z.string().min(1).max(128).optional(), hours: z.number().int().min(1).max(24).default(24) }))
    .query(async (): Promise<{ points: StatsPoint[]; resolutionSeconds: number }> => notBuilt()),
});
