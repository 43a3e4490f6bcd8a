import "server-only";
import { z } from "zod";
import { imageReferenceSchema } from "../../lib/deploy/spec";
import { listImages, removeImage, tagImage } from "../services/images/host-images";
import { pullImage, pushImage } from "../services/images/transfer-image";
import { createRouter, hostScopedProcedure } from "../trpc";
import { dockerImageRefSchema } from "../../lib/validation/docker-objects";

// Images on one host: list (with the containers using each), pull with
// progress, remove, tag, and push to a saved registry.

const reference = imageReferenceSchema();
const imageId = dockerImageRefSchema;
const progressToken = z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional();

export const imagesRouter = createRouter({
  list: hostScopedProcedure("images.read").query(async ({ ctx }) => listImages({ services: await ctx.fleet(), hostId: ctx.host.id })),

  pull: hostScopedProcedure("images.pull")
    .input(z.object({ reference, registryId: z.string().min(1).max(64).optional(), progressToken }))
    .mutation(async ({ ctx, input }) => {
      const services = await ctx.fleet();
      ctx.audit.target = { type: "image", id: input.reference };
      return pullImage({ db: ctx.db, viewer: ctx.viewer, services, hostId: ctx.host.id, reference: input.reference, registryId: input.registryId, progressToken: input.progressToken });
    }),

  remove: hostScopedProcedure("images.delete")
    .input(z.object({ image: imageId, force: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "image", id: input.image };
      return removeImage({ services: await ctx.fleet(), hostId: ctx.host.id, image: input.image, force: input.force });
    }),

  tag: hostScopedProcedure("images.pull")
    .input(z.object({ image: imageId, target: reference }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "image", id: input.image };
      return tagImage({ services: await ctx.fleet(), hostId: ctx.host.id, image: input.image, target: input.target });
    }),

  push: hostScopedProcedure("images.pull")
    .input(z.object({ reference, registryId: z.string().min(1).max(64), progressToken }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "image", id: input.reference };
      return pushImage({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, host: ctx.host, reference: input.reference, registryId: input.registryId, progressToken: input.progressToken });
    }),
});
