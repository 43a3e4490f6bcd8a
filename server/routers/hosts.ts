import "server-only";
import { z } from "zod";
import { agentConfigSchema } from "../fleet/agent-config";
import { FINGERPRINT_PATTERN } from "../fleet/ssh/fingerprint";
import { createHostGroup, listHostGroups } from "../services/hosts/list-hosts";
import {
  addHost,
  addHostInputSchema,
  addLocalHost,
  checkPrereqs,
  getFleetOverview,
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
import { watchHostChanges, watchInstallProgress } from "../services/hosts/watch-hosts";
import { createRouter, hostScopedProcedure, permissionProcedure } from "../trpc";
import { nameSchema, plainTextSchema } from "../../lib/validation/text";

export const hostsRouter = createRouter({
  list: permissionProcedure("hosts.read").query(async ({ ctx }) => listHostViews({ db: ctx.db, viewer: ctx.viewer, services: await ctx.fleet() })),

  get: hostScopedProcedure("hosts.read").query(async ({ ctx }) => getHostView({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id })),

  /** Fleet overview from the last known state: answers at once even when hosts are down. */
  overview: permissionProcedure("hosts.read").query(async ({ ctx }) => getFleetOverview({ db: ctx.db, viewer: ctx.viewer, services: await ctx.fleet() })),

  /** Live updates for the hosts the viewer may read. */
  live: permissionProcedure("hosts.read").subscription(({ ctx, signal }) => watchHostChanges({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, signal })),

  groups: permissionProcedure("hosts.read").query(({ ctx }) => listHostGroups({ db: ctx.db, viewer: ctx.viewer })),

  createGroup: permissionProcedure("hosts.manage")
    .input(z.object({ name: nameSchema(60), description: plainTextSchema({ max: 300 }).default("") }))
    .mutation(async ({ ctx, input }) => {
      const group = await createHostGroup({ db: ctx.db, viewer: ctx.viewer, name: input.name, description: input.description });
      ctx.audit.target = { type: "hostGroup", id: group.id };
      return group;
    }),

  /** Step 1 of adding a host: connect and show the key's fingerprint for the user to confirm. */
  probe: permissionProcedure("hosts.manage")
    .input(probeInputSchema)
    .mutation(({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: `${input.address}:${input.port}` };
      return probeHost({ viewer: ctx.viewer, input });
    }),

  /** Step 2: add it, pinning the confirmed key. */
  add: permissionProcedure("hosts.manage")
    .input(addHostInputSchema)
    .mutation(async ({ ctx, input }) => {
      const host = await addHost({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, input });
      ctx.audit.target = { type: "host", id: host.id };
      ctx.audit.hostId = host.id;
      return host;
    }),

  addLocal: permissionProcedure("hosts.manage")
    .input(z.object({ name: z.string().trim().min(1).max(63).default("this-machine"), agent: agentConfigSchema.partial().optional() }))
    .mutation(async ({ ctx, input }) => {
      const host = await addLocalHost({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, name: input.name, agent: input.agent });
      ctx.audit.target = { type: "host", id: host.id };
      ctx.audit.hostId = host.id;
      return host;
    }),

  repin: hostScopedProcedure("hosts.manage")
    .input(z.object({ fingerprint: z.string().regex(FINGERPRINT_PATTERN) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      const result = await repinHost({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id, fingerprint: input.fingerprint });
      ctx.audit.params = { previous: result.previous, pinned: result.pinned };
      return result;
    }),

  update: hostScopedProcedure("hosts.manage")
    .input(updateHostInputSchema)
    .mutation(({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      return updateHost({ db: ctx.db, viewer: ctx.viewer, fleet: ctx.fleet, host: ctx.host, input });
    }),

  remove: hostScopedProcedure("hosts.manage").mutation(async ({ ctx }) => {
    ctx.audit.target = { type: "host", id: ctx.host.id };
    await removeHost({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id });
    return { removed: true };
  }),

  prereqs: hostScopedProcedure("hosts.manage").query(async ({ ctx }) => checkPrereqs({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id })),

  /** Steps of an install or upgrade running on this host; the console subscribes before it starts one. */
  installProgress: hostScopedProcedure("hosts.manage").subscription(({ ctx, signal }) => watchInstallProgress({ fleet: ctx.fleet, hostId: ctx.host.id, signal })),

  installAgent: hostScopedProcedure("hosts.manage")
    .input(z.object({ installPackages: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      return installHostAgent({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id, installPackages: input.installPackages });
    }),

  upgradeAgent: hostScopedProcedure("hosts.manage").mutation(async ({ ctx }) => {
    ctx.audit.target = { type: "host", id: ctx.host.id };
    return upgradeHostAgent({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id });
  }),

  uninstallAgent: hostScopedProcedure("hosts.manage")
    .input(z.object({ removeData: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: "host", id: ctx.host.id };
      await uninstallHostAgent({ db: ctx.db, services: await ctx.fleet(), hostId: ctx.host.id, removeData: input.removeData });
      return { uninstalled: true };
    }),
});
