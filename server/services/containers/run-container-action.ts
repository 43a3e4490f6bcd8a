import "server-only";
import { z } from "zod";
import { requireOnHost, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { AgentClient } from "../../fleet/agent/client";
import type { Permission } from "../../../lib/permissions";
import type { FleetAccess } from "../service-deps";

// Lifecycle actions on containers, each gated by that action's own permission
// on the container's host (containers.control, or containers.delete for
// remove), not containers.read. Fails closed: an action without a permission,
// or a host the viewer isn't granted it on (or that doesn't exist), is refused
// before any host is contacted.

export const containerActionSchema = z.enum(["start", "stop", "restart", "pause", "unpause", "kill", "remove"]);
export type ContainerAction = z.infer<typeof containerActionSchema>;

/** Each action: the permission it takes on the host, and what it asks of the agent. */
const ACTIONS: Record<ContainerAction, { permission: Permission; run: (client: AgentClient, id: string) => Promise<void> }> = {
  start: { permission: "containers.control", run: (c, id) => c.startContainer(id) },
  stop: { permission: "containers.control", run: (c, id) => c.stopContainer(id) },
  restart: { permission: "containers.control", run: (c, id) => c.restartContainer(id) },
  pause: { permission: "containers.control", run: (c, id) => c.pauseContainer(id) },
  unpause: { permission: "containers.control", run: (c, id) => c.unpauseContainer(id) },
  kill: { permission: "containers.control", run: (c, id) => c.killContainer(id) },
  remove: { permission: "containers.delete", run: (c, id) => c.removeContainer(id, { force: true }) },
};

function permissionFor(action: string): Permission {
  const needed = Object.hasOwn(ACTIONS, action) ? ACTIONS[action as ContainerAction].permission : undefined;
  if (!needed) throw new AppError("FORBIDDEN", `No permission allows ${action}.`);
  return needed;
}

interface ActionDeps {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
  action: ContainerAction;
}

/** One action on one container. */
export async function runContainerAction(o: ActionDeps & { hostId: string; containerId: string }) {
  const needed = permissionFor(o.action);
  const host = await o.db.host.findUnique({ where: { id: o.hostId } });
  requireOnHost(o.viewer, needed, host);
  const { fleet } = await o.fleet();
  await ACTIONS[o.action].run(fleet.client(host.id), o.containerId);
  return { ok: true };
}

/**
 * One action on many containers, possibly on many hosts. All or nothing on
 * permissions: one item the viewer may not touch refuses the whole request.
 * Then each runs and is reported on its own.
 */
export async function runContainerActions(o: ActionDeps & { items: { hostId: string; containerId: string }[] }) {
  const needed = permissionFor(o.action);
  const hostIds = [...new Set(o.items.map((i) => i.hostId))];
  const hosts = new Map((await o.db.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, hostGroupId: true } })).map((h) => [h.id, h]));
  for (const item of o.items) requireOnHost(o.viewer, needed, hosts.get(item.hostId), `You need the ${needed} permission on every host in the selection.`);
  const { fleet } = await o.fleet();
  return Promise.all(
    o.items.map(async (item) => {
      try {
        await ACTIONS[o.action].run(fleet.client(item.hostId), item.containerId);
        return { ...item, ok: true, error: null as string | null };
      } catch (e) {
        return { ...item, ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}
