import "server-only";
import { z } from "zod";
import type { DeploymentView, Page } from "./_views";
import { getDeploymentView, listDeploymentViews } from "../rollouts/history";
import { createRouter, permissionProcedure } from "../trpc";

// Saved deployments across the fleet, each with its latest rollout (the deploy
// form makes them; containers.update replaces them through a rollout).

const id = z.string().min(1).max(64);

export const deploymentsRouter = createRouter({
  list: permissionProcedure("containers.read")
    .input(z.object({ hostId: id.optional(), cursor: id.optional(), limit: z.number().int().min(1).max(100).default(50) }).default({ limit: 50 }))
    .query(({ ctx, input }): Promise<Page<DeploymentView>> => listDeploymentViews(ctx.db, ctx.viewer, input)),
  /** One deployment with its saved spec (secret values masked) and the digest it last rolled out. */
  get: permissionProcedure("containers.read")
    .input(z.object({ id }))
    .query(({ ctx, input }): Promise<DeploymentView & { spec: unknown; digest: string | null }> => getDeploymentView(ctx.db, ctx.viewer, input.id)),
});
