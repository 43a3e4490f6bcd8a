import "server-only";
import { hostCoverage, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import type { Prisma } from "../../generated/prisma/client";
import { coveredHosts } from "../hosts/list-hosts";

// Saved deployments on the hosts the viewer may read (containers.read there),
// most recently changed first, optionally on one host only.

interface DeploymentFilter {
  db: Db;
  viewer: Viewer;
  hostId?: string;
}

function deploymentsWhere(viewer: Viewer, hostId?: string): Prisma.DeploymentWhereInput {
  return { host: coveredHosts(hostCoverage(viewer, "containers.read")), ...(hostId ? { hostId } : {}) };
}

/** One page, paged in the database. */
export function listDeployments(o: DeploymentFilter & { skip: number; take: number }) {
  return o.db.deployment.findMany({
    where: deploymentsWhere(o.viewer, o.hostId),
    orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
    skip: o.skip,
    take: o.take,
    select: { id: true, hostId: true, name: true, containerId: true, status: true, message: true, updatedAt: true, host: { select: { name: true } } },
  });
}

/** How many match, for a page's total. */
export function countDeployments(o: DeploymentFilter): Promise<number> {
  return o.db.deployment.count({ where: deploymentsWhere(o.viewer, o.hostId) });
}
