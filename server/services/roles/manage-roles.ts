import "server-only";
import type { z } from "zod";
import { holdsOn, missingOn, type Viewer } from "../../auth/access";
import { PERMISSIONS } from "../../../lib/permissions";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { Prisma } from "../../generated/prisma/client";
import type { createRoleSchema, updateRoleSchema } from "./schemas";

export async function listRoles(db: Db) {
  const roles = await db.role.findMany({
    orderBy: [{ builtIn: "desc" }, { name: "asc" }],
    include: { _count: { select: { bindings: true } } },
  });
  return roles.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    builtIn: r.builtIn,
    permissions: r.permissions,
    bindingCount: r._count.bindings,
  }));
}

/** The roles, and every permission with whether the viewer may put it in a role (the form offers only those). */
export async function listRolesForViewer({ db, viewer }: { db: Db; viewer: Viewer }) {
  return {
    roles: await listRoles(db),
    permissions: Object.entries(PERMISSIONS).map(([name, p]) => ({ name, ...p, grantable: holdsOn(viewer, name, { type: "global" }) })),
  };
}

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
}

/**
 * A role may only hold permissions its editor holds everywhere: it can be bound
 * anywhere (to its editor too), so anything more would be a way to grant
 * oneself what one lacks. `before` is the role as it is, for an edit: changing
 * a role takes holding what it gives now as well.
 */
function assertHoldsEverywhere(viewer: Viewer, name: string, permissions: string[], before?: string[]) {
  const missing = missingOn(viewer, [...permissions, ...(before ?? [])], { type: "global" });
  if (missing.length) {
    throw new AppError(
      "FORBIDDEN",
      `A role can only hold permissions you hold everywhere: ${name} ${before ? "has or would have" : "would have"} ${missing.join(", ")}, which you don't.`,
    );
  }
}

export async function createRole(db: Db, viewer: Viewer, input: z.output<typeof createRoleSchema>) {
  assertHoldsEverywhere(viewer, input.name, input.permissions);
  try {
    return await db.role.create({ data: { ...input, builtIn: false } });
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError("CONFLICT", `A role named "${input.name}" already exists.`);
    throw e;
  }
}

async function customRole(db: Db, id: string) {
  const role = await db.role.findUnique({ where: { id } });
  if (!role) throw new AppError("NOT_FOUND", "No such role.");
  if (role.builtIn) throw new AppError("BAD_REQUEST", `${role.name} is a built-in role and can't be changed.`);
  return role;
}

export async function updateRole(db: Db, viewer: Viewer, input: z.output<typeof updateRoleSchema>) {
  const role = await customRole(db, input.id);
  assertHoldsEverywhere(viewer, role.name, input.permissions, role.permissions);
  try {
    return await db.role.update({
      where: { id: input.id },
      data: { name: input.name, description: input.description, permissions: input.permissions },
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError("CONFLICT", `A role named "${input.name}" already exists.`);
    throw e;
  }
}

export async function deleteRole(db: Db, id: string) {
  const role = await customRole(db, id);
  const bindings = await db.roleBinding.count({ where: { roleId: id } });
  if (bindings > 0) {
    throw new AppError("CONFLICT", `${role.name} is still bound to ${bindings} user(s); remove those bindings first.`);
  }
  await db.role.delete({ where: { id } });
  return { id, name: role.name };
}
