import "server-only";
import { z } from "zod";
import type { StackSource } from "../../lib/compose/model";
import { applyStackAsRollout } from "../services/stacks/apply-rollout";
import { checkStack, rollbackStack, runServiceAction, scaleService, takeStackDown } from "../services/stacks/operate-stack";
import { progressTokenSchema, stackIdSchema, stackNameSchema, stackSourceSchema } from "../services/stacks/schemas";
import { followStackLogs } from "../services/stacks/stack-logs";
import { getStack, getVersion, listStacks, listVersions } from "../services/stacks/view-stacks";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";
import { perUserStreamLimit } from "./stream-limit";

// Stacks: a compose project per host, applied, rolled back, operated and
// taken down; each procedure checks its permission on the stack's host
// (stacks.read, stacks.deploy, stacks.control, stacks.delete).

const serviceName = z.string().min(1).max(128);
const MAX_FOLLOWS_PER_USER = 8;
const followLimit = perUserStreamLimit(MAX_FOLLOWS_PER_USER, `At most ${MAX_FOLLOWS_PER_USER} log streams at once; close one first.`);

/** The audit record of a check or apply names the files, never their whole content. */
function sourceNote(source: unknown) {
  const files = (source as { files?: unknown } | null)?.files;
  return Array.isArray(files) ? files.map((f) => (f && typeof f === "object" ? String((f as { path?: unknown }).path ?? "") : "")) : null;
}

export const stacksRouter = createRouter({
  list: permissionProcedure("stacks.read")
    .input(z.object({ hostId: z.string().min(1).max(64).optional(), cursor: z.string().min(1).max(64).optional(), limit: z.number().int().min(1).max(100).default(50) }).default({ limit: 50 }))
    .query(({ ctx, input }) => listStacks({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, hostId: input.hostId, cursor: input.cursor, limit: input.limit })),

  get: permissionProcedure("stacks.read")
    .input(z.object({ stackId: stackIdSchema }))
    .query(({ ctx, input }) => getStack({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, stackId: input.stackId })),

  /** Problems and the policy's verdict per service, before applying. Nothing is changed or audited. */
  check: hostScopedProcedure("stacks.read")
    .input(z.object({ name: stackNameSchema, source: stackSourceSchema }))
    .query(({ ctx, input }) => {
      ctx.audit.params = { name: input.name, files: sourceNote(input.source) };
      return checkStack({ db: ctx.db, viewer: ctx.viewer, host: ctx.host, name: input.name, source: input.source as StackSource });
    }),

  /**
   * Apply (create or update) a stack: `stacks.apply` in the contract,
   * named `up` because tRPC reserves `apply` (a router's keys can't be
   * call/apply/then): the pair of `down`, as in compose.
   */
  up: hostScopedProcedure("stacks.deploy")
    .use(async ({ ctx, getRawInput, next }) => {
      const raw = (await getRawInput().catch(() => null)) as { name?: unknown; source?: unknown } | null;
      ctx.audit.params = { name: typeof raw?.name === "string" ? raw.name.slice(0, 100) : null, files: sourceNote(raw?.source) };
      return next();
    })
    .input(z.object({ name: stackNameSchema, source: stackSourceSchema, override: z.boolean().default(false), removeOrphans: z.boolean().default(false), progressToken: progressTokenSchema }))
    .mutation(({ ctx, input }) =>
      // A rollout of the stack (trigger "form", or "api" for a token): queued behind its others, or waiting for an approver.
      applyStackAsRollout({
        db: ctx.db,
        viewer: ctx.viewer,
        fleet: ctx.fleet,
        host: ctx.host,
        name: input.name,
        source: input.source as StackSource,
        override: input.override,
        removeOrphans: input.removeOrphans,
        progressToken: input.progressToken,
        audit: ctx.audit,
      }),
    ),

  down: permissionProcedure("stacks.delete")
    .input(z.object({ stackId: stackIdSchema, volumes: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => takeStackDown({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit, stackId: input.stackId, volumes: input.volumes })),

  rollback: permissionProcedure("stacks.deploy")
    .input(z.object({ stackId: stackIdSchema, version: z.number().int().min(1), progressToken: progressTokenSchema }))
    .mutation(({ ctx, input }) => rollbackStack({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit, ...input })),

  versions: permissionProcedure("stacks.read")
    .input(z.object({ stackId: stackIdSchema }))
    .query(({ ctx, input }) => listVersions({ db: ctx.db, viewer: ctx.viewer, stackId: input.stackId })),

  version: permissionProcedure("stacks.read")
    .input(z.object({ stackId: stackIdSchema, version: z.number().int().min(1) }))
    .query(({ ctx, input }) => getVersion({ db: ctx.db, viewer: ctx.viewer, stackId: input.stackId, version: input.version })),

  serviceAction: permissionProcedure("stacks.control")
    .input(z.object({ stackId: stackIdSchema, service: serviceName, action: z.enum(["start", "stop", "restart"]) }))
    .mutation(({ ctx, input }) => runServiceAction({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit, ...input })),

  scale: permissionProcedure("stacks.control")
    .input(z.object({ stackId: stackIdSchema, service: serviceName, replicas: z.number().int().min(0).max(100) }))
    .mutation(({ ctx, input }) => scaleService({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, audit: ctx.audit, ...input })),

  /** The chosen services' logs, merged live, each line tagged with its service and container. */
  logs: permissionProcedure("stacks.read")
    .input(z.object({ stackId: stackIdSchema, services: z.array(serviceName).max(100).optional(), tail: z.number().int().min(0).max(10_000).default(200) }))
    .subscription(({ ctx, input, signal }) =>
      followLimit(ctx.viewer.user.id, () => followStackLogs({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, stackId: input.stackId, services: input.services, tail: input.tail, signal })),
    ),
});
