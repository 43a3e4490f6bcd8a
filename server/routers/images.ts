import "server-only";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { canOnHost } from "../auth/access";
import { imageReferenceSchema } from "../../lib/deploy/spec";
import { registryAuthHeader } from "../services/registries/registries";
import { createRouter, hostScopedProcedure } from "../trpc";
import { dockerImageRefSchema } from "../../lib/validation/docker-objects";

// Images on one host: list (with the containers using each), pull with
// progress, remove, tag, and push to a saved registry.

const reference = imageReferenceSchema();
const imageId = dockerImageRefSchema;
const progressToken = z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional();

export const imagesRouter = createRouter({
  list: hostScopedProcedure("images.read").query(async ({ ctx }) => {
    const { fleet } = await ctx.fleet();
    const client = fleet.client(ctx.host.id);
    const [images, containers] = await Promise.all([client.images({ timeoutMs: 10_000 }), client.containers({ all: true, timeoutMs: 10_000 })]);
    return images.map((img) => ({
      id: img.Id,
      tags: img.RepoTags ?? [],
      digests: img.RepoDigests ?? [],
      created: img.Created,
      size: img.Size,
      containers: containers.filter((c) => c.ImageID === img.Id).map((c) => ({ id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, ""), state: c.State })),
    }));
  }),

  pull: hostScopedProcedure("images.pull")
    .input(z.object({ reference, registryId: z.string().min(1).max(64).optional(), progressToken }))
    .mutation(async ({ ctx, input }) => {
      const services = await ctx.fleet();
      ctx.audit.target = { type: "image", id: input.reference };
      const key = input.progressToken ? `${ctx.viewer.user.id}:${input.progressToken}` : null;
      const auth = input.registryId ? await registryAuthHeader(ctx.db, services.box, input.registryId, input.reference) : null;
      try {
        await services.fleet.client(ctx.host.id).pull(input.reference, {
          registryAuth: auth?.header,
          timeoutMs: 60_000,
          onProgress: (p) =>
            key &&
            services.fleet.reportProgress({
              key,
              phase: "pull",
              message: p.status ?? "",
              layer: p.id ? { id: p.id, status: p.status ?? "", current: p.progressDetail?.current, total: p.progressDetail?.total } : undefined,
            }),
        });
      } catch (e) {
        if (key) services.fleet.reportProgress({ key, phase: "error", message: e instanceof Error ? e.message : String(e) });
        throw e;
      }
      if (key) services.fleet.reportProgress({ key, phase: "done", message: `Pulled ${input.reference}` });
      return { pulled: input.reference };
    }),

  remove: hostScopedProcedure("images.delete")
    .input(z.object({ image: imageId, force: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "image", id: input.image };
      const { fleet } = await ctx.fleet();
      await fleet.client(ctx.host.id).removeImage(input.image, { force: input.force });
      return { removed: true };
    }),

  tag: hostScopedProcedure("images.pull")
    .input(z.object({ image: imageId, target: reference }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "image", id: input.image };
      const { fleet } = await ctx.fleet();
      await fleet.client(ctx.host.id).tagImage(input.image, input.target);
      return { tagged: input.target };
    }),

  push: hostScopedProcedure("images.pull")
    .input(z.object({ reference, registryId: z.string().min(1).max(64), progressToken }))
    .mutation(async ({ ctx, input }) => {
      // Pushing publishes what is on the host: it takes build rights there too.
      if (!canOnHost(ctx.viewer, "images.build", ctx.host)) throw new TRPCError({ code: "FORBIDDEN", message: "Pushing needs the images.build permission on this host." });
      const services = await ctx.fleet();
      ctx.audit.target = { type: "image", id: input.reference };
      const auth = await registryAuthHeader(ctx.db, services.box, input.registryId, input.reference);
      const key = input.progressToken ? `${ctx.viewer.user.id}:${input.progressToken}` : null;
      try {
        await services.fleet.client(ctx.host.id).push(input.reference, {
          registryAuth: auth.header,
          timeoutMs: 60_000,
          onProgress: (p) =>
            key &&
            services.fleet.reportProgress({
              key,
              phase: "push",
              message: p.status ?? "",
              layer: p.id ? { id: p.id, status: p.status ?? "", current: p.progressDetail?.current, total: p.progressDetail?.total } : undefined,
            }),
        });
      } catch (e) {
        if (key) services.fleet.reportProgress({ key, phase: "error", message: e instanceof Error ? e.message : String(e) });
        throw e;
      }
      if (key) services.fleet.reportProgress({ key, phase: "done", message: `Pushed ${input.reference}` });
      return { pushed: input.reference };
    }),
});
