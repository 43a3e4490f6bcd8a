import "server-only";
import { z } from "zod";
import { createNetwork, createVolume, listNetworks, listVolumes, removeNetwork, removeVolume } from "../services/networks/host-networks";
import { createRouter, hostScopedProcedure } from "../trpc";
import { dockerObjectRefSchema } from "../../lib/validation/docker-objects";

// Networks and volumes on one host.
const name = dockerObjectRefSchema.max(128);

export const networksRouter = createRouter({
  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => listNetworks({ services: await ctx.fleet(), hostId: ctx.host.id })),

  create: hostScopedProcedure("networks.manage")
    .input(z.object({ name, internal: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "network", id: input.name };
      return createNetwork({ services: await ctx.fleet(), hostId: ctx.host.id, name: input.name, internal: input.internal });
    }),

  remove: hostScopedProcedure("networks.manage")
    .input(z.object({ network: dockerObjectRefSchema }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "network", id: input.network };
      return removeNetwork({ services: await ctx.fleet(), hostId: ctx.host.id, network: input.network });
    }),
});

export const volumesRouter = createRouter({
  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => listVolumes({ services: await ctx.fleet(), hostId: ctx.host.id })),

  create: hostScopedProcedure("volumes.manage")
    .input(z.object({ name }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "volume", id: input.name };
      return createVolume({ services: await ctx.fleet(), hostId: ctx.host.id, name: input.name });
    }),

  remove: hostScopedProcedure("volumes.manage")
    .input(z.object({ volume: dockerObjectRefSchema }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "volume", id: input.volume };
      return removeVolume({ services: await ctx.fleet(), hostId: ctx.host.id, volume: input.volume });
    }),
});
