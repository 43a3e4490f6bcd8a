import type { z } from "zod";
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

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
}

export async function createRole(db: Db, input: z.output<typeof createRoleSchema>) {
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

export async function updateRole(db: Db, input: z.output<typeof updateRoleSchema>) {
  await customRole(db, input.id);
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
