import type { Db } from "../db";
import { writeAudit } from "../audit/write";
import type { RequestMeta } from "../audit/types";
import { verifyPassword } from "./password";
import { createSession } from "./sessions";

export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_THRESHOLD = 5;

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string | null }; sessionToken: string }
  | { ok: false; reason: "invalid" | "disabled" }
  | { ok: false; reason: "locked"; retryAfterSeconds: number };

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/**
 * Failures counted for one account (since its last success) and for one IP,
 * within the window. Returns when the lock lifts, or null when not locked.
 */
async function lockedUntil(db: Db, email: string, ip: string): Promise<Date | null> {
  const since = new Date(Date.now() - LOCKOUT_WINDOW_MS);
  const lastSuccess = await db.loginAttempt.findFirst({
    where: { email, success: true, createdAt: { gte: since } },
    orderBy: { createdAt: "desc" },
    select: { createdAt: true },
  });
  const byAccount = await db.loginAttempt.findMany({
    where: { email, success: false, createdAt: { gte: lastSuccess?.createdAt ?? since } },
    orderBy: { createdAt: "desc" },
    take: LOCKOUT_THRESHOLD,
    select: { createdAt: true },
  });
  const byIp = await db.loginAttempt.findMany({
    where: { ip, success: false, createdAt: { gte: since } },
    orderBy: { createdAt: "desc" },
    take: LOCKOUT_THRESHOLD,
    select: { createdAt: true },
  });
  const ends = [byAccount, byIp]
    .filter((rows) => rows.length >= LOCKOUT_THRESHOLD)
    // The lock lifts when the oldest of the last five failures leaves the window.
    .map((rows) => rows[LOCKOUT_THRESHOLD - 1]!.createdAt.getTime() + LOCKOUT_WINDOW_MS);
  return ends.length ? new Date(Math.max(...ends)) : null;
}

export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; meta: RequestMeta; sessionHours: number },
): Promise<SignInResult> {
  const email = normaliseEmail(input.email).slice(0, 320);
  const ip = input.meta.ip ?? "unknown";
  const audit = (outcome: "success" | "denied", errorMessage: string | null, userId: string | null) =>
    writeAudit(db, {
      actor: { type: userId ? "user" : "anonymous", id: userId, label: email },
      action: "auth.sign_in",
      outcome,
      target: { type: "user", id: userId },
      params: { email },
      errorMessage,
      request: input.meta,
    });

  const until = await lockedUntil(db, email, ip);
  if (until) {
    const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
    await audit("denied", `locked out after ${LOCKOUT_THRESHOLD} failed attempts; retry in ${retryAfterSeconds}s`, null);
    return { ok: false, reason: "locked", retryAfterSeconds };
  }

  const user = await db.user.findUnique({ where: { email } });
  const passwordOk = await verifyPassword(input.password, user?.passwordHash);
  if (!user || !passwordOk || user.disabled) {
    await db.loginAttempt.create({ data: { email, ip, success: false } });
    const reason = user && passwordOk ? "disabled" : "invalid";
    await audit("denied", reason === "disabled" ? "account is disabled" : "wrong email or password", user?.id ?? null);
    return { ok: false, reason };
  }

  await db.loginAttempt.create({ data: { email, ip, success: true } });
  const sessionToken = await createSession(db, user.id, input.sessionHours);
  await audit("success", null, user.id);
  return { ok: true, user: { id: user.id, email: user.email, name: user.name }, sessionToken };
}
