import "server-only";
import { on } from "node:events";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { canOnHost, hasGlobal } from "../auth/access";
import type { HostSnapshot, InstallProgress } from "../fleet/fleet";
import { FINGERPRINT_PATTERN } from "../fleet/ssh/fingerprint";
import { createHostGroup, listHostGroups } from "../services/hosts/list-hosts";
import {
  addHost,
  addHostInputSchema,
  addLocalHost,
  checkPrereqs,
  getHostView,
  installHostAgent,
  listHostViews,
  probeHost,
  probeInputSchema,
  removeHost,
  repinHost,
  uninstallHostAgent,
  updateHost,
  updateHostInputSchema,
  upgradeHostAgent,
} from "../services/hosts/manage-hosts";
import { agentConfigSchema } from "../fleet/agent-config";
import { createRouter, hostScopedProcedure, permissionProcedure, type Context } from "../trpc";
import { nameSchema, plainTextSchema } from "../../lib/validation/text";
import type { Viewer } from "../auth/access";

function requireGlobalManage(viewer: Viewer, what: string) {
  if (!hasGlobal(viewer, "hosts.manage")) {
    throw new TRPCError({ code: "FORBIDDEN", message: `${what} needs hosts.manage everywhere.` });
  }
}

/** Live updates for the hosts the viewer may read. */
async function* liveChanges(ctx: Context & { viewer: Viewer }, signal: AbortSignal | undefined) {
  const { fleet } = await ctx.fleet();
  const groups = new Map<string, string | null>();
  for await (const [snapshot] of on(fleet, "change", { signal }) as AsyncIterable<[HostSnapshot]>) {
    if (!groups.has(snapshot.hostId)) {
      const row = await ctx.db.host.findUnique({ where: { id: snapshot.hostId }, select: { hostGroupId: true } });
      if (!row) continue;
      groups.set(snapshot.hostId, row.hostGroupId);
    }
    if (!canOnHost(ctx.viewer, "hosts.read", { id: snapshot.hostId, hostGroupId: groups.get(snapshot.hostId) ?? null })) continue;
    yield {
      hostId: snapshot.hostId,
      status: snapshot.state === "connecting" ? "pending" : snapshot.state,
      message: snapshot.message,
      stale: snapshot.stale,
      agent: snapshot.agent,
      agentVersion: snapshot.agentVersion,
      containerCount: snapshot.containers?.length ?? null,
      runningCount: snapshot.containers?.filter((c) => c.State === "running").length ?? null,
      factsAt: snapshot.factsAt,
      samples: snapshot.samples,
    };
  }
}

export const hostsRouter = createRouter({
  list: permissionProcedure("hosts.read").query(async ({ ctx }) => listHostViews(ctx.db, await ctx.fleet(), ctx.coverage)),

  get: hostScopedProcedure("hosts.read").query(async ({ ctx }) => getHostView(ctx.db, await ctx.fleet(), ctx.host.id)),

  /** Fleet overview from the last known state: answers at once even when hosts are down. */
  overview: permissionProcedure("hosts.read").query(async ({ ctx }) => {
    const hosts = await listHostViews(ctx.db, await ctx.fleet(), ctx.coverage);
    return {
      hosts,
      totals: {
        hosts: hosts.length,
        connected: hosts.filter((h) => h.status === "connected").length,
        needsAttention: hosts.filter((h) => h.status !== "connected" || h.agent !== "ok").length,
        containers: hosts.reduce((n, h) => n + (h.containerCount ?? 0), 0),
        running: hosts.reduce((n, h) => n + (h.runningCount ?? 0), 0),
      },
    };
  }),

  live: permissionProcedure("hosts.read").subscription(({ ctx, signal }) => liveChanges(ctx, signal)),

  groups: permissionProcedure("hosts.read").query(({ ctx }) => listHostGroups(ctx.db, ctx.coverage)),

  createGroup: permissionProcedure("hosts.manage")
    .input(z.object({ name: nameSchema(60), description: plainTextSchema({ max: 300 }).default("") }))
    .mutation(async ({ ctx, input }) => {
      requireGlobalManage(ctx.viewer, "Creating host groups");
      const group = await createHostGroup(ctx.db, input);
      ctx.audit.target = { type: "hostGroup", id: group.id };
      return group;
    }),

  /** Step 1 of adding a host: connect and show the key's fingerprint for the user to confirm. */
  probe: permissionProcedure("hosts.manage")
    .input(probeInputSchema)
    .mutation(async ({ ctx, input }) => {
      requireGlobalManage(ctx.viewer, "Adding hosts");
      ctx.audit.target = { type: "host", id: `${input.address}:${input.port}` };
      return probeHost(input);
    }),

  /** Step 2: add it, pinning the confirmed key. */
  add: permissionProcedure("hosts.manage")
    .input(addHostInputSchema)
    .mutation(async ({ ctx, input }) => {
      requireGlobalManage(ctx.viewer, "Adding hosts");
      const host = await addHost(ctx.db, await ctx.fleet(), input);
      ctx.audit.target = { type: "host", id: host.id };
      ctx.audit.hostId = host.id;
      return host;
    }),

  addLocal: permissionProcedure("hosts.manage")
    .input(z.object({ name: z.string().trim().min(1).max(63).default("this-machine"), agent: agentConfigSchema.partial().optional() }))
    .mutation(async ({ ctx, input }) => {
      requireGlobalManage(ctx.viewer, "Adding hosts");
      const host = await addLocalHost(ctx.db, await ctx.fleet(), input);
      ctx.audit.target = { type: "host", id: host.id };
      ctx.audit.hostId = host.id;
      return host;
    }),

  repin: hostScopedProcedure("hosts.manage")
    .input(z.object({ fingerprint: z.string().regex(FINGERPRINT_PATTERN) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      const result = await repinHost(ctx.db, await ctx.fleet(), ctx.host.id, input.fingerprint);
      ctx.audit.params = { previous: result.previous, pinned: result.pinned };
      return result;
    }),

  update: hostScopedProcedure("hosts.manage")
    .input(updateHostInputSchema)
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      // Moving a host into another group takes hosts.manage everywhere: a group-scoped admin can't give hosts away.
      if (input.hostGroupId !== undefined && input.hostGroupId !== ctx.host.hostGroupId) requireGlobalManage(ctx.viewer, "Moving a host between groups");
      return updateHost(ctx.db, await ctx.fleet(), ctx.host.id, input);
    }),

  remove: hostScopedProcedure("hosts.manage").mutation(async ({ ctx }) => {
    ctx.audit.target = { type: "host", id: ctx.host.id };
    await removeHost(ctx.db, await ctx.fleet(), ctx.host.id);
    return { removed: true };
  }),

  prereqs: hostScopedProcedure("hosts.manage").query(async ({ ctx }) => checkPrereqs(ctx.db, await ctx.fleet(), ctx.host.id)),

  /** Steps of an install or upgrade running on this host; the console subscribes before it starts one. */
  installProgress: hostScopedProcedure("hosts.manage").subscription(async function* ({ ctx, signal }) {
    const { fleet } = await ctx.fleet();
    for await (const [event] of on(fleet, "install", { signal }) as AsyncIterable<[InstallProgress]>) {
      if (event.hostId === ctx.host.id) yield { step: event.step, detail: event.detail, at: event.at };
    }
  }),

  installAgent: hostScopedProcedure("hosts.manage")
    .input(z.object({ installPackages: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      return installHostAgent(ctx.db, await ctx.fleet(), ctx.host.id, input);
    }),

  upgradeAgent: hostScopedProcedure("hosts.manage").mutation(async ({ ctx }) => {
    ctx.audit.target = { type: "host", id: ctx.host.id };
    return upgradeHostAgent(ctx.db, await ctx.fleet(), ctx.host.id);
  }),

  uninstallAgent: hostScopedProcedure("hosts.manage")
    .input(z.object({ removeData: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      await uninstallHostAgent(ctx.db, await ctx.fleet(), ctx.host.id, input);
      return { uninstalled: true };
    }),
});
