import "server-only";
import { z } from "zod";
import { deploySpecSchema, imageReferenceSchema } from "../../lib/deploy/spec";
import { dockerObjectRefSchema } from "../../lib/validation/docker-objects";
import { followContainerLogs, readContainerLogs, watchContainerStats } from "../services/containers/container-streams";
import { containerQuerySchema } from "../services/containers/fleet-containers";
import { inspectContainer } from "../services/containers/inspect-container";
import { listAllContainers, listHostContainers } from "../services/containers/list-containers";
import { containerActionSchema, runContainerAction, runContainerActions } from "../services/containers/run-container-action";
import type { HostRef, Viewer } from "../auth/access";
import type { Db } from "../db";
import type { FleetServices } from "../fleet/instance";
import { deploy, getDeployment, type DeployRequest } from "../services/deploy/deploy";
import { updateDeploymentByRollout } from "../services/deploy/update-deployment";
import { listDeployments } from "../services/deploy/list-deployments";
import { maskSpecSecrets } from "../services/deploy/secrets";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";
import { perUserStreamLimit } from "./stream-limit";

// Containers: one list across hosts, a container's details, logs and stats,
// lifecycle actions (one or many), and deploy/update through the deploy policy.

const containerId = dockerObjectRefSchema;
const progressToken = z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional();

const MAX_FOLLOWS_PER_USER = 8;
const followLimit = perUserStreamLimit(MAX_FOLLOWS_PER_USER, `At most ${MAX_FOLLOWS_PER_USER} log streams at once; close one first.`);

/** Who deploys where, from a host-scoped procedure's context and its input. */
function deployRequest(
  ctx: { db: Db; viewer: Viewer; host: HostRef },
  services: FleetServices,
  input: { overridePolicy: boolean; progressToken?: string },
): DeployRequest {
  return { db: ctx.db, services, viewer: ctx.viewer, host: ctx.host, override: input.overridePolicy, progressToken: input.progressToken };
}

export const containersRouter = createRouter({
  /** Every container the viewer may read, across hosts, from live state. */
  all: permissionProcedure("containers.read")
    .input(containerQuerySchema)
    .query(({ ctx, input }) => listAllContainers({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, query: input })),

  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => listHostContainers({ services: await ctx.fleet(), hostId: ctx.host.id })),

  inspect: hostScopedProcedure("containers.read")
    .input(z.object({ containerId }))
    .query(async ({ ctx, input }) => inspectContainer({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id, containerId: input.containerId })),

  logs: hostScopedProcedure("containers.logs")
    .input(
      z.object({
        containerId,
        tail: z.number().int().min(1).max(10_000).default(500),
        since: z.number().int().min(0).optional(),
        until: z.number().int().min(0).optional(),
        timestamps: z.boolean().default(false),
      }),
    )
    .query(async ({ ctx, input }) =>
      readContainerLogs({ services: await ctx.fleet(), hostId: ctx.host.id, containerId: input.containerId, tail: input.tail, since: input.since, until: input.until, timestamps: input.timestamps }),
    ),

  /** Follows a container's log over SSE. When the browser goes away the signal aborts and the agent's stream is closed. */
  follow: hostScopedProcedure("containers.logs")
    .input(z.object({ containerId, tail: z.number().int().min(0).max(10_000).default(200), timestamps: z.boolean().default(false) }))
    .subscription(({ ctx, input, signal }) =>
      followLimit(ctx.viewer.user.id, () =>
        followContainerLogs({ fleet: ctx.fleet, hostId: ctx.host.id, containerId: input.containerId, tail: input.tail, timestamps: input.timestamps, signal }),
      ),
    ),

  /** Live CPU, memory, network and block I/O, one sample every 2 s while subscribed. */
  stats: hostScopedProcedure("containers.read")
    .input(z.object({ containerId }))
    .subscription(({ ctx, input, signal }) => watchContainerStats({ fleet: ctx.fleet, hostId: ctx.host.id, containerId: input.containerId, signal })),

  /**
   * One lifecycle action, gated by that action's own permission on the host
   * (containers.control, or containers.delete for remove), checked by the service.
   */
  action: permissionProcedure(["containers.control", "containers.delete"])
    .input(z.object({ hostId: z.string().min(1).max(64), containerId, action: containerActionSchema }))
    .mutation(({ ctx, input }) => {
      ctx.audit.hostId = input.hostId;
      ctx.audit.target = { type: "container", id: input.containerId };
      return runContainerAction({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, ...input });
    }),

  /** Many containers, possibly on many hosts; each checked and reported on its own. */
  bulk: permissionProcedure("containers.read")
    .input(z.object({ action: containerActionSchema, items: z.array(z.object({ hostId: z.string().min(1).max(64), containerId })).min(1).max(200) }))
    .mutation(async ({ ctx, input }) => {
      const results = await runContainerActions({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, ...input });
      ctx.audit.params = { action: input.action, items: results.map((r) => ({ hostId: r.hostId, containerId: r.containerId, ok: r.ok, error: r.error })) };
      return results;
    }),

  /** Deploy a spec to a host: policy, pull (progress to the token's subscription), create, start, save. */
  deploy: hostScopedProcedure("containers.deploy")
    .input(z.object({ spec: deploySpecSchema, overridePolicy: z.boolean().default(false), progressToken }))
    .mutation(async ({ ctx, input }) => {
      const services = await ctx.fleet();
      ctx.audit.target = { type: "container", id: input.spec.name ?? input.spec.image };
      // Secret values never reach the audit log.
      ctx.audit.params = { image: input.spec.image, name: input.spec.name ?? null, overridePolicy: input.overridePolicy, spec: maskSpecSecrets(input.spec) };
      const result = await deploy({ ...deployRequest(ctx, services, input), spec: input.spec });
      ctx.audit.target = { type: "container", id: result.containerId };
      ctx.audit.params = { image: input.spec.image, name: result.name, spec: maskSpecSecrets(input.spec), overridden: result.overridden.map((v) => v.rule) };
      return result;
    }),

  /**
   * Redeploy a saved deployment with the newest image (and optionally an
   * edited spec) as a rollout, waiting for its result; the old container
   * keeps (or goes back to) serving if the new one fails its health gate.
   */
  update: hostScopedProcedure("containers.deploy")
    .input(
      z.object({
        deploymentId: z.string().min(1).max(64),
        spec: deploySpecSchema.optional(),
        /** Another tag or digest of the deployment's own repository ("repo:tag" or "repo@sha256:…"). */
        image: imageReferenceSchema().optional(),
        overridePolicy: z.boolean().default(false),
        progressToken,
        /** False: answer as soon as the rollout is queued (or waits for approval); follow it with rollouts.get. */
        wait: z.boolean().default(true),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const services = await ctx.fleet();
      ctx.audit.target = { type: "deployment", id: input.deploymentId };
      ctx.audit.params = { deploymentId: input.deploymentId, image: input.image ?? null, spec: input.spec ? maskSpecSecrets(input.spec) : null };
      const result = await updateDeploymentByRollout({
        db: ctx.db,
        services,
        viewer: ctx.viewer,
        hostId: ctx.host.id,
        deploymentId: input.deploymentId,
        spec: input.spec,
        image: input.image,
        override: input.overridePolicy,
        progressToken: input.progressToken,
        wait: input.wait,
      });
      ctx.audit.params = {
        deploymentId: input.deploymentId,
        rolloutId: result.rolloutId,
        status: result.status,
        rolledBack: result.rolledBack,
        message: result.message,
        overridden: result.overridden.map((v) => (v as { rule?: string }).rule ?? null),
      };
      return result;
    }),

  /** A saved deployment with its spec (secret values masked), to prefill the form for an edited update. */
  deployment: hostScopedProcedure("containers.read")
    .input(z.object({ deploymentId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => getDeployment({ db: ctx.db, hostId: ctx.host.id, deploymentId: input.deploymentId })),

  /**
   * Saved deployments on the hosts the viewer may read, most recently changed
   * first. Without input: the 500 most recent (as before); hostId, skip and
   * take narrow and page it in the database.
   */
  deployments: permissionProcedure("containers.read")
    .input(
      z
        .object({
          hostId: z.string().min(1).max(64).optional(),
          skip: z.number().int().min(0).max(1_000_000).default(0),
          take: z.number().int().min(1).max(500).default(500),
        })
        .optional(),
    )
    .query(({ ctx, input }) => listDeployments({ db: ctx.db, viewer: ctx.viewer, hostId: input?.hostId, skip: input?.skip ?? 0, take: input?.take ?? 500 })),
});
