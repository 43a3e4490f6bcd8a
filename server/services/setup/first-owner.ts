import "server-only";
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../../db";
import { writeAudit } from "../../audit/write";
import { SYSTEM_ACTOR, type RequestMeta } from "../../audit/types";
import { hashPassword } from "../../auth/password";
import { OWNER_ROLE } from "../../../lib/permissions";
import { AppError } from "../../errors";

// The first owner is created either from BERTH_ADMIN_EMAIL/BERTH_ADMIN_PASSWORD
// at start-up, or through a one-time link printed on the console. Nothing else
// can create a user while the database has none.
const FIRST_OWNER_LOCK = 72707371;
const SETUP_TOKEN_HOURS = 24;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export async function needsSetup(db: Db): Promise<boolean> {
  return (await db.user.count()) === 0;
}

async function createOwner(
  db: Db,
  input: { email: string; name?: string | null; password: string },
  beforeCreate?: (tx: Parameters<Parameters<Db["$transaction"]>[0]>[0]) => Promise<void>,
) {
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${FIRST_OWNER_LOCK})`);
    if ((await tx.user.count()) > 0) return null;
    await beforeCreate?.(tx);
    const owner = await tx.role.findUnique({ where: { name: OWNER_ROLE } });
    if (!owner) throw new Error("Built-in roles are missing: seed them before creating the first owner");
    const user = await tx.user.create({
      data: { email: input.email.trim().toLowerCase(), name: input.name || null, passwordHash },
    });
    await tx.roleBinding.create({
      data: { userId: user.id, roleId: owner.id, scopeType: "global", scopeKey: "global" },
    });
    return user;
  });
}

/** From the environment, on an empty database only. Returns the new owner, or null. */
export async function ensureOwnerFromEnv(db: Db, email: string, password: string) {
  const user = await createOwner(db, { email, password });
  if (user) {
    await writeAudit(db, {
      actor: SYSTEM_ACTOR,
      action: "setup.first_owner",
      outcome: "success",
      target: { type: "user", id: user.id },
      params: { email: user.email, source: "environment" },
    });
  }
  return user;
}

/** A new one-time set-up token (earlier unused ones stop working). Null when an owner exists. */
export async function issueSetupToken(db: Db): Promise<string | null> {
  if (!(await needsSetup(db))) return null;
  const token = randomBytes(24).toString("base64url");
  await db.$transaction([
    db.setupToken.deleteMany({ where: { usedAt: null } }),
    db.setupToken.create({
      data: { tokenHash: sha256(token), expires: new Date(Date.now() + SETUP_TOKEN_HOURS * 3600_000) },
    }),
  ]);
  return token;
}

export async function isSetupTokenValid(db: Db, token: string): Promise<boolean> {
  const row = await db.setupToken.findUnique({ where: { tokenHash: sha256(token) } });
  return Boolean(row && !row.usedAt && row.expires.getTime() > Date.now()) && (await needsSetup(db));
}

export async function completeSetup(
  db: Db,
  input: { token: string; email: string; name?: string; password: string; meta: RequestMeta },
) {
  const tokenHash = sha256(input.token);
  const user = await createOwner(db, input, async (tx) => {
    const row = await tx.setupToken.findUnique({ where: { tokenHash } });
    // Looked up by the token's hash, so a match is the check.
    if (!row || row.usedAt || row.expires.getTime() <= Date.now()) throw new AppError("FORBIDDEN", "This set-up link is invalid, used or expired. Restart Berth for a new one.");
    await tx.setupToken.update({ where: { tokenHash }, data: { usedAt: new Date() } });
  }).catch(async (e) => {
    if (e instanceof AppError) {
      await writeAudit(db, {
        actor: { type: "anonymous", label: input.email },
        action: "setup.first_owner",
        outcome: "denied",
        params: { email: input.email },
        errorMessage: e.message,
        request: input.meta,
      });
    }
    throw e;
  });
  if (!user) {
    await writeAudit(db, {
      actor: { type: "anonymous", label: input.email },
      action: "setup.first_owner",
      outcome: "denied",
      params: { email: input.email },
      errorMessage: "an owner already exists",
      request: input.meta,
    });
    throw new AppError("FORBIDDEN", "Berth is already set up. Sign in instead.");
  }
  await writeAudit(db, {
    actor: { type: "user", id: user.id, label: user.email },
    action: "setup.first_owner",
    outcome: "success",
    target: { type: "user", id: user.id },
    params: { email: user.email, source: "setup-link" },
    request: input.meta,
  });
  return { id: user.id, email: user.email };
}
