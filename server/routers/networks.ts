import "server-only";
import { z } from "zod";
import { createRouter, hostScopedProcedure } from "../trpc";
import { dockerObjectRefSchema } from "../../lib/validation/docker-objects";

// Networks and volumes on one host. Removing one in use is refused by the agent (409), and said so.
const name = dockerObjectRefSchema.max(128);

export const networksRouter = createRouter({
  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => {
    const { fleet } = await ctx.fleet();
    const client = fleet.client(ctx.host.id);
    const [networks, containers] = await Promise.all([client.networks({ timeoutMs: 10_000 }), client.containers({ all: true, timeoutMs: 10_000 })]);
    return networks.map((n) => ({
      ...n,
      containers: containers
        .filter((c) => Object.keys((c as { NetworkSettings?: { Networks?: Record<string, unknown> } }).NetworkSettings?.Networks ?? {}).includes(n.Name))
        .map((c) => (c.Names[0] ?? "").replace(/^\//, "")),
    }));
  }),

  create: hostScopedProcedure("networks.manage")
    .input(z.object({ name, internal: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "network", id: input.name };
      const { fleet } = await ctx.fleet();
      return fleet.client(ctx.host.id).createNetwork({ Name: input.name, Driver: "bridge", Internal: input.internal });
    }),

  remove: hostScopedProcedure("networks.manage")
    .input(z.object({ network: dockerObjectRefSchema }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "network", id: input.network };
      const { fleet } = await ctx.fleet();
      await fleet.client(ctx.host.id).removeNetwork(input.network);
      return { removed: true };
    }),
});

export const volumesRouter = createRouter({
  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => {
    const { fleet } = await ctx.fleet();
    const client = fleet.client(ctx.host.id);
    const [volumes, containers] = await Promise.all([client.volumes({ timeoutMs: 10_000 }), client.containers({ all: true, timeoutMs: 10_000 })]);
    return volumes.map((v) => ({
      ...v,
      containers: containers
        .filter((c) => ((c as { Mounts?: { Name?: string }[] }).Mounts ?? []).some((m) => m.Name === v.Name))
        .map((c) => (c.Names[0] ?? "").replace(/^\//, "")),
    }));
  }),

  create: hostScopedProcedure("volumes.manage")
    .input(z.object({ name }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "volume", id: input.name };
      const { fleet } = await ctx.fleet();
      return fleet.client(ctx.host.id).createVolume({ Name: input.name });
    }),

  remove: hostScopedProcedure("volumes.manage")
    .input(z.object({ volume: dockerObjectRefSchema }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "volume", id: input.volume };
      const { fleet } = await ctx.fleet();
      await fleet.client(ctx.host.id).removeVolume(input.volume);
      return { removed: true };
    }),
});
