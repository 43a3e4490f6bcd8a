import "server-only";
import { z } from "zod";
import type { DeploymentView, Page } from "./_views";
import { createRouter, permissionProcedure } from "../trpc";
import { notBuilt } from "./_stub";

// CONTRACT STUB (engine helper owns this file): saved deployments across the
// fleet (the deploy form makes them; containers.update replaces them through
// a rollout).

const id = z.string().min(1).max(64);

export const deploymentsRouter = createRouter({
  list: permissionProcedure("containers.read")
    .input(z.object({ hostId: id.optional(), cursor: id.optional(), limit: z.number().int().min(1).max(100).default(50) }).default({ limit: 50 }))
    .query(async (): Promise<Page<DeploymentView>> => notBuilt()),
  get: permissionProcedure("containers.read").input(z.object({ id })).query(async (): Promise<DeploymentView & { spec: unknown; digest: string | null }> => notBuilt()),
});
