import "server-only";
import type { z } from "zod";
import type { Db } from "../../db";
import { scopeKey, type Scope, type Viewer } from "../../auth/access";
import { bumpAuthGeneration } from "../../auth/generation";
import { hashPassword } from "../../auth/password";
import { OWNER_ROLE } from "../../../lib/permissions";
import { AppError } from "../../errors";
import { Prisma } from "../../generated/prisma/client";
import { assertHoldsRole, assertMayChangeUser, isUserOwner, otherActiveOwners, resolveGrantTarget, scopeOfBinding } from "./guards";
import type { createUserSchema } from "./schemas";

export async function listUsers(db: Db) {
  const users = await db.user.findMany({
    orderBy: { email: "asc" },
    include: { roleBindings: { include: { role: true, host: true, hostGroup: true }, orderBy: { createdAt: "asc" } } },
  });
  // Never the password hash.
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    name: u.name,
    disabled: u.disabled,
    createdAt: u.createdAt,
    bindings: u.roleBindings.map((b) => ({
      id: b.id,
      roleId: b.roleId,
      roleName: b.role.name,
      scopeType: b.scopeType,
      scopeLabel:
        b.scopeType === "global"
          ? "Everywhere"
          : b.scopeType === "hostGroup"
            ? `Group ${b.hostGroup?.name ?? "(removed)"}`
            : `Host ${b.host?.name ?? "(removed)"}`,
    })),
  }));
}

export async function createUser(db: Db, viewer: Viewer, input: z.output<typeof createUserSchema>) {
  if (input.roleId) assertHoldsRole(viewer, await findRole(db, input.roleId), await resolveGrantTarget(db, { type: "global" }), "grant");
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email: input.email, name: input.name || null, passwordHash } });
      if (input.roleId) {
        await tx.roleBinding.create({
          data: { userId: user.id, roleId: input.roleId, scopeType: "global", scopeKey: "global" },
        });
      }
      return { id: user.id, email: user.email };
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      throw new AppError("CONFLICT", `A user with email ${input.email} already exists.`);
    }
    throw e;
  }
}

async function findRole(db: Db, roleId: string) {
  const role = await db.role.findUnique({ where: { id: roleId } });
  if (!role) throw new AppError("NOT_FOUND", "No such role.");
  return role;
}

export async function setUserDisabled(db: Db, viewer: Viewer, input: { userId: string; disabled: boolean }) {
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new AppError("NOT_FOUND", "No such user.");
  if (input.disabled && user.id === viewer.user.id) throw new AppError("BAD_REQUEST", "You can't disable yourself.");
  await assertMayChangeUser(db, viewer, user.id);
  if (input.disabled && (await isUserOwner(db, user.id)) && (await otherActiveOwners(db, user.id)) === 0) {
    throw new AppError("BAD_REQUEST", "This is the last active Owner; make someone else an Owner first.");
  }
  await db.$transaction([
    db.user.update({ where: { id: user.id }, data: { disabled: input.disabled } }),
    // Disabling ends every session at once.
    ...(input.disabled ? [db.session.deleteMany({ where: { userId: user.id } })] : []),
  ]);
  return { id: user.id, email: user.email, disabled: input.disabled };
}

/**
 * Sets a user's password. A reset is what one does when an account may be in
 * the wrong hands, so everything that authenticates as the user without the
 * new password ends with it: their other sessions and all their API tokens
 * (revoked, so their list says so). The answer names the revoked tokens.
 */
export async function setUserPassword(db: Db, viewer: Viewer, input: { userId: string; password: string }) {
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new AppError("NOT_FOUND", "No such user.");
  await assertMayChangeUser(db, viewer, user.id);
  const passwordHash = await hashPassword(input.password);
  const revokedAt = new Date();
  const revoked = await db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    // Other sessions of that user end; the admin's own stays.
    await tx.session.deleteMany({ where: { userId: user.id, sessionToken: { not: viewer.sessionId ?? "" } } });
    const active = await tx.apiToken.findMany({ where: { userId: user.id, revokedAt: null }, select: { id: true, name: true, prefix: true } });
    await tx.apiToken.updateMany({ where: { id: { in: active.map((t) => t.id) }, revokedAt: null }, data: { revokedAt } });
    return active;
  });
  // Remembered authentications (the Docker-API proxy's) are dropped before this answer goes out.
  if (revoked.length) bumpAuthGeneration();
  return { id: user.id, email: user.email, revokedApiTokens: revoked.length, revoked: revoked.map((t) => ({ type: "apiToken" as const, ...t })) };
}

export async function bindRole(db: Db, viewer: Viewer, input: { userId: string; roleId: string; scope: Scope }) {
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new AppError("NOT_FOUND", "No such user.");
  const role = await findRole(db, input.roleId);
  assertHoldsRole(viewer, role, await resolveGrantTarget(db, input.scope), "grant");
  if (role.name === OWNER_ROLE && input.scope.type !== "global") {
    throw new AppError("BAD_REQUEST", "The Owner role can only be granted everywhere.");
  }
  await assertMayChangeUser(db, viewer, user.id);
  try {
    const binding = await db.roleBinding.create({
      data: {
        userId: user.id,
        roleId: role.id,
        scopeType: input.scope.type,
        hostGroupId: input.scope.type === "hostGroup" ? input.scope.id : null,
        hostId: input.scope.type === "host" ? input.scope.id : null,
        scopeKey: scopeKey(input.scope),
      },
    });
    return { id: binding.id, user: user.email, role: role.name, scope: binding.scopeKey };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      throw new AppError("CONFLICT", `${user.email} already has ${role.name} on that scope.`);
    }
    throw e;
  }
}

export async function unbindRole(db: Db, viewer: Viewer, input: { bindingId: string }) {
  const binding = await db.roleBinding.findUnique({ where: { id: input.bindingId }, include: { role: true, user: true } });
  if (!binding) throw new AppError("NOT_FOUND", "No such role binding.");
  // Removing a role takes holding it where it is bound, as granting it does.
  assertHoldsRole(viewer, binding.role, await resolveGrantTarget(db, scopeOfBinding(binding)), "remove");
  await assertMayChangeUser(db, viewer, binding.userId);
  if (binding.role.name === OWNER_ROLE && binding.scopeType === "global" && (await otherActiveOwners(db, binding.userId)) === 0) {
    throw new AppError("BAD_REQUEST", "This is the last active Owner; make someone else an Owner first.");
  }
  await db.roleBinding.delete({ where: { id: binding.id } });
  return { id: binding.id, user: binding.user.email, role: binding.role.name, scope: binding.scopeKey };
}
