import "server-only";
import type { Db } from "../../db";
import type { HostCoverage } from "../../auth/access";
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

export async function listHostGroups(db: Db, coverage: HostCoverage) {
  return db.hostGroup.findMany({
    where: coverage.all ? {} : { id: { in: coverage.hostGroupIds } },
    orderBy: { name: "asc" },
    select: { id: true, name: true, description: true, _count: { select: { hosts: true } } },
  });
}

export async function createHostGroup(db: Db, input: { name: string; description: string }) {
  try {
    return await db.hostGroup.create({ data: input, select: { id: true, name: true } });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      throw new AppError("CONFLICT", `A host group named "${input.name}" already exists.`);
    }
    throw e;
  }
}
