import "server-only";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { Prisma } from "../generated/prisma/client";
import { canOnHost, hostCoverage, type Viewer } from "../auth/access";
import type { Permission } from "../../lib/permissions";
import { deploySpecSchema } from "../../lib/deploy/spec";
import { isFleetError } from "../fleet/errors";
import { deploy, getDeployment, updateDeployment } from "../services/deploy/deploy";
import { maskSpecSecrets } from "../services/deploy/secrets";
import { containerQuerySchema, listFleetContainers, summariseStats } from "../services/containers/fleet-containers";
import { coveredHosts } from "../services/hosts/list-hosts";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";
import { dockerObjectRefSchema } from "../../lib/validation/docker-objects";

// Containers: one list across hosts, a container's details, logs and stats,
// lifecycle actions (one or many), and deploy/update through the deploy policy.

const containerId = dockerObjectRefSchema;
const progressToken = z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional();
const ACTION_PERMISSION: Record<string, Permission> = {
  start: "containers.control",
  stop: "containers.control",
  restart: "containers.control",
  pause: "containers.control",
  unpause: "containers.control",
  kill: "containers.control",
  remove: "containers.delete",
};
const actionSchema = z.enum(["start", "stop", "restart", "pause", "unpause", "kill", "remove"]);

/** Follows per user: a viewer must not use up a host's SSH sessions. */
const followers = new Map<string, number>();
const MAX_FOLLOWS_PER_USER = 8;

export const containersRouter = createRouter({
  /** Every container the viewer may read, across hosts, from live state. */
  all: permissionProcedure("containers.read")
    .input(containerQuerySchema)
    .query(async ({ ctx, input }) => {
      const { fleet } = await ctx.fleet();
      const c = ctx.coverage;
      const hosts = await ctx.db.host.findMany({
        where: coveredHosts(c),
        select: { id: true, name: true },
      });
      return listFleetContainers(fleet, hosts, input);
    }),

  list: hostScopedProcedure("containers.read").query(async ({ ctx }) => {
    const { fleet } = await ctx.fleet();
    try {
      const containers = await fleet.client(ctx.host.id).containers({ all: true, timeoutMs: 5_000 });
      return { containers, stale: false, at: new Date(), message: null as string | null };
    } catch (e) {
      if (!isFleetError(e)) throw e;
      const last = fleet.snapshot(ctx.host.id);
      return { containers: last.containers ?? [], stale: true, at: last.containersAt, message: e.message };
    }
  }),

  inspect: hostScopedProcedure("containers.read")
    .input(z.object({ containerId }))
    .query(async ({ ctx, input }) => {
      const { fleet } = await ctx.fleet();
      const inspect = await fleet.client(ctx.host.id).inspectContainer(input.containerId);
      const deployment = await ctx.db.deployment.findFirst({ where: { hostId: ctx.host.id, containerId: inspect.Id }, select: { id: true, name: true, status: true, message: true } });
      // Environment values of a deployment's secret variables never leave the server.
      const secretNames = new Set<string>();
      if (deployment) {
        const row = await ctx.db.deployment.findUnique({ where: { id: deployment.id }, select: { spec: true } });
        for (const e of (row?.spec as { env?: { name: string; secret?: boolean }[] })?.env ?? []) if (e.secret) secretNames.add(e.name);
      }
      const env = (inspect.Config.Env ?? []).map((kv) => {
        const name = kv.split("=", 1)[0]!;
        return secretNames.has(name) ? `${name}=••••••` : kv;
      });
      return { ...inspect, Config: { ...inspect.Config, Env: env }, deployment };
    }),

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
    .query(async ({ ctx, input }) => {
      const { fleet } = await ctx.fleet();
      const lines: { stream: string; text: string }[] = [];
      for await (const frame of fleet.client(ctx.host.id).logs(input.containerId, { ...input, timeoutMs: 10_000 })) lines.push(frame);
      return lines;
    }),

  /** Follows a container's log over SSE. When the browser goes away the signal aborts and the agent's stream is closed. */
  follow: hostScopedProcedure("containers.logs")
    .input(z.object({ containerId, tail: z.number().int().min(0).max(10_000).default(200), timestamps: z.boolean().default(false) }))
    .subscription(async function* ({ ctx, input, signal }) {
      const key = ctx.viewer.user.id;
      if ((followers.get(key) ?? 0) >= MAX_FOLLOWS_PER_USER) {
        throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `At most ${MAX_FOLLOWS_PER_USER} log streams at once; close one first.` });
      }
      followers.set(key, (followers.get(key) ?? 0) + 1);
      try {
        const { fleet } = await ctx.fleet();
        yield* fleet.client(ctx.host.id).logs(input.containerId, { follow: true, tail: input.tail, timestamps: input.timestamps, signal, timeoutMs: 10_000 });
      } finally {
        followers.set(key, (followers.get(key) ?? 1) - 1);
      }
    }),

  /** Live CPU, memory, network and block I/O, one sample every 2 s while subscribed. */
  stats: hostScopedProcedure("containers.read")
    .input(z.object({ containerId }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { fleet } = await ctx.fleet();
      const client = fleet.client(ctx.host.id);
      while (!signal?.aborted) {
        const started = Date.now();
        yield summariseStats((await client.stats(input.containerId, { signal })) as unknown as Parameters<typeof summariseStats>[0]);
        const wait = Math.max(0, 2_000 - (Date.now() - started));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
        });
      }
    }),

  /**
   * One lifecycle action, gated by that action's own permission on the host
   * (containers.control, or containers.delete for remove), not containers.read:
   * what the API documents. Fails closed: an action without a permission, or a
   * host the viewer isn't granted it on, is refused.
   */
  action: permissionProcedure(["containers.control", "containers.delete"])
    .input(z.object({ hostId: z.string().min(1).max(64), containerId, action: actionSchema }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.hostId = input.hostId;
      ctx.audit.target = { type: "container", id: input.containerId };
      const needed = Object.hasOwn(ACTION_PERMISSION, input.action) ? ACTION_PERMISSION[input.action] : undefined;
      if (!needed) throw new TRPCError({ code: "FORBIDDEN", message: `No permission allows ${input.action}.` });
      const host = await ctx.db.host.findUnique({ where: { id: input.hostId } });
      if (!host || !canOnHost(ctx.viewer, needed, host)) throw new TRPCError({ code: "FORBIDDEN", message: `You need the ${needed} permission on this host.` });
      const { fleet } = await ctx.fleet();
      await runAction(fleet.client(host.id), input.containerId, input.action);
      return { ok: true };
    }),

  /** Many containers, possibly on many hosts; each checked and reported on its own. */
  bulk: permissionProcedure("containers.read")
    .input(z.object({ action: actionSchema, items: z.array(z.object({ hostId: z.string().min(1).max(64), containerId })).min(1).max(200) }))
    .mutation(async ({ ctx, input }) => {
      const needed = ACTION_PERMISSION[input.action]!;
      const hosts = new Map((await ctx.db.host.findMany({ where: { id: { in: [...new Set(input.items.map((i) => i.hostId))] } }, select: { id: true, hostGroupId: true } })).map((h) => [h.id, h]));
      // All or nothing on permissions: one item the viewer may not touch denies the whole request.
      for (const item of input.items) {
        const host = hosts.get(item.hostId);
        if (!host || !canOnHost(ctx.viewer, needed, host)) throw new TRPCError({ code: "FORBIDDEN", message: `You need the ${needed} permission on every host in the selection.` });
      }
      const { fleet } = await ctx.fleet();
      const results = await Promise.all(
        input.items.map(async (item) => {
          try {
            await runAction(fleet.client(item.hostId), item.containerId, input.action);
            return { ...item, ok: true, error: null as string | null };
          } catch (e) {
            return { ...item, ok: false, error: e instanceof Error ? e.message : String(e) };
          }
        }),
      );
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
      const result = await deploy(
        {
          db: ctx.db,
          services,
          hostId: ctx.host.id,
          hostGroupId: ctx.host.hostGroupId,
          userId: ctx.viewer.user.id,
          viewer: ctx.viewer,
          override: input.overridePolicy,
          progressKey: input.progressToken ? `${ctx.viewer.user.id}:${input.progressToken}` : undefined,
        },
        input.spec,
      );
      ctx.audit.target = { type: "container", id: result.containerId };
      ctx.audit.params = { image: input.spec.image, name: result.name, spec: maskSpecSecrets(input.spec), overridden: result.overridden.map((v) => v.rule) };
      return result;
    }),

  /** Redeploy a saved deployment with the newest image (and optionally an edited spec); rolls back if it won't run. */
  update: hostScopedProcedure("containers.deploy")
    .input(z.object({ deploymentId: z.string().min(1).max(64), spec: deploySpecSchema.optional(), overridePolicy: z.boolean().default(false), progressToken }))
    .mutation(async ({ ctx, input }) => {
      const services = await ctx.fleet();
      ctx.audit.target = { type: "deployment", id: input.deploymentId };
      ctx.audit.params = { deploymentId: input.deploymentId, spec: input.spec ? maskSpecSecrets(input.spec) : null };
      const result = await updateDeployment(
        {
          db: ctx.db,
          services,
          hostId: ctx.host.id,
          hostGroupId: ctx.host.hostGroupId,
          userId: ctx.viewer.user.id,
          viewer: ctx.viewer,
          override: input.overridePolicy,
          progressKey: input.progressToken ? `${ctx.viewer.user.id}:${input.progressToken}` : undefined,
        },
        input.deploymentId,
        input.spec,
      );
      ctx.audit.params = { deploymentId: input.deploymentId, rolledBack: result.rolledBack, message: result.message, overridden: result.overridden.map((v) => v.rule) };
      return result;
    }),

  /** A saved deployment with its spec (secret values masked), to prefill the form for an edited update. */
  deployment: hostScopedProcedure("containers.read")
    .input(z.object({ deploymentId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => getDeployment(ctx.db, ctx.host.id, input.deploymentId)),

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
    .query(async ({ ctx, input }) => {
      const rows = await ctx.db.deployment.findMany({
        where: deploymentsWhere(ctx.viewer, input?.hostId),
        orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
        skip: input?.skip ?? 0,
        take: input?.take ?? 500,
        select: { id: true, hostId: true, name: true, containerId: true, status: true, message: true, updatedAt: true, host: { select: { name: true } } },
      });
      return rows;
    }),
});

/** The deployments a viewer may list (containers.read on their host), optionally on one host only. */
export function deploymentsWhere(viewer: Viewer, hostId?: string): Prisma.DeploymentWhereInput {
  return { host: coveredHosts(hostCoverage(viewer, "containers.read")), ...(hostId ? { hostId } : {}) };
}

async function runAction(client: import("../fleet/agent/client").AgentClient, id: string, action: z.infer<typeof actionSchema>) {
  switch (action) {
    case "start":
      return client.startContainer(id);
    case "stop":
      return client.stopContainer(id);
    case "restart":
      return client.restartContainer(id);
    case "pause":
      return client.pauseContainer(id);
    case "unpause":
      return client.unpauseContainer(id);
    case "kill":
      return client.killContainer(id);
    case "remove":
      return client.removeContainer(id, { force: true });
  }
}
