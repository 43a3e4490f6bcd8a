import "server-only";
import type { Db } from "../../db";
import { hostCoverage, requireGlobal, type HostCoverage, type Viewer } from "../../auth/access";
import { AppError } from "../../errors";
import { Prisma } from "../../generated/prisma/client";

/** Only what the coverage reaches: never a lookup by id alone. */
export function coveredHosts(c: HostCoverage): Prisma.HostWhereInput {
  if (c.all) return {};
  return { OR: [{ id: { in: c.hostIds } }, { hostGroupId: { in: c.hostGroupIds } }] };
}

export async function listHosts(db: Db, coverage: HostCoverage) {
  return db.host.findMany({
    where: coveredHosts(coverage),
    orderBy: { name: "asc" },
    select: { id: true, name: true, address: true, port: true, hostGroupId: true, hostGroup: { select: { name: true } } },
  });
}

/** The host groups the viewer reads hosts in (hosts.read), with how many hosts each holds. */
export async function listHostGroups({ db, viewer }: { db: Db; viewer: Viewer }) {
  const coverage = hostCoverage(viewer, "hosts.read");
  return db.hostGroup.findMany({
    where: coverage.all ? {} : { id: { in: coverage.hostGroupIds } },
    orderBy: { name: "asc" },
    select: { id: true, name: true, description: true, _count: { select: { hosts: true } } },
  });
}

/** A new, empty host group. Groups span hosts nobody may be scoped to yet: it takes hosts.manage everywhere. */
export async function createHostGroup({ db, viewer, ...input }: { db: Db; viewer: Viewer; name: string; description: string }) {
  requireGlobal(viewer, "hosts.manage", "Creating host groups");
  try {
    return await db.hostGroup.create({ data: input, select: { id: true, name: true } });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      throw new AppError("CONFLICT", `A host group named "${input.name}" already exists.`);
    }
    throw e;
  }
}
