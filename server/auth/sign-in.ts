import type { Db } from "../db";
import { writeAudit } from "../audit/write";
import type { RequestMeta } from "../audit/types";
import { verifyPassword } from "./password";
import { createSession } from "./sessions";

export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_THRESHOLD = 5;

// Advisory-lock classes (two-int4 form, a key space apart from the audit chain's
// and Prisma's bigint locks): one serialises the decisions for an account, the
// other those for a client address.
const ACCOUNT_LOCK_CLASS = 72707371;
const ADDRESS_LOCK_CLASS = 72707372;

export type SignInResult =
  | { ok: true; user: { id: string; email: string; name: string | null }; sessionToken: string }
  | { ok: false; reason: "invalid" | "disabled" }
  | { ok: false; reason: "locked"; retryAfterSeconds: number };

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** When the lock from these failures (newest first) lifts: when the oldest of the last five leaves the window. */
function lockEnd(failures: { createdAt: Date }[]): number | null {
  return failures.length >= LOCKOUT_THRESHOLD ? failures[LOCKOUT_THRESHOLD - 1]!.createdAt.getTime() + LOCKOUT_WINDOW_MS : null;
}

/**
 * Failures counted for one account (since its last success) and for one IP,
 * within the window. Returns when the lock lifts, or null when not locked.
 */
async function lockedUntil(tx: Tx, email: string, ip: string): Promise<Date | null> {
  const since = new Date(Date.now() - LOCKOUT_WINDOW_MS);
  const lastSuccess = await tx.loginAttempt.findFirst({
    where: { email, success: true, createdAt: { gte: since } },
    orderBy: { createdAt: "desc" },
    select: { createdAt: true },
  });
  const recentFailures = (where: { email: string } | { ip: string }, from: Date) =>
    tx.loginAttempt.findMany({
      where: { ...where, success: false, createdAt: { gte: from } },
      orderBy: { createdAt: "desc" },
      take: LOCKOUT_THRESHOLD,
      select: { createdAt: true },
    });
  const ends = [
    lockEnd(await recentFailures({ email }, lastSuccess?.createdAt ?? since)),
    lockEnd(await recentFailures({ ip }, since)),
  ].filter((end): end is number => end !== null);
  return ends.length ? new Date(Math.max(...ends)) : null;
}

/**
 * Decides whether an attempt may be judged and, if so, counts it before its
 * password is checked: the attempt is stored as a failure (and only turned into
 * a success once the password proves right), all under advisory locks on the
 * account and the address. So however many attempts race, each decision sees
 * every attempt decided before it, and the sixth in the window is refused.
 * A crash between the decision and the verdict leaves a failure: fail closed.
 */
async function admitAttempt(
  db: Db,
  email: string,
  ip: string,
): Promise<{ admitted: true; attemptId: bigint } | { admitted: false; until: Date }> {
  return db.$transaction(
    async (tx) => {
      // Always the account first, then the address: every decision takes the two in the same order, so none deadlock.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ACCOUNT_LOCK_CLASS}::int4, hashtext(${email}))`;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADDRESS_LOCK_CLASS}::int4, hashtext(${ip}))`;
      const until = await lockedUntil(tx, email, ip);
      if (until) return { admitted: false as const, until };
      const attempt = await tx.loginAttempt.create({ data: { email, ip, success: false }, select: { id: true } });
      return { admitted: true as const, attemptId: attempt.id };
    },
    // A burst of attempts queues here for the pool and the locks; each holds them for a few queries.
    { maxWait: 30_000, timeout: 30_000 },
  );
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

  const admission = await admitAttempt(db, email, ip);
  if (!admission.admitted) {
    const retryAfterSeconds = Math.max(1, Math.ceil((admission.until.getTime() - Date.now()) / 1000));
    await audit("denied", `locked out after ${LOCKOUT_THRESHOLD} failed attempts; retry in ${retryAfterSeconds}s`, null);
    return { ok: false, reason: "locked", retryAfterSeconds };
  }

  const user = await db.user.findUnique({ where: { email } });
  const passwordOk = await verifyPassword(input.password, user?.passwordHash);
  if (!user || !passwordOk || user.disabled) {
    // The attempt was stored as a failure when it was admitted.
    const reason = user && passwordOk ? "disabled" : "invalid";
    await audit("denied", reason === "disabled" ? "account is disabled" : "wrong email or password", user?.id ?? null);
    return { ok: false, reason };
  }

  await db.loginAttempt.update({ where: { id: admission.attemptId }, data: { success: true } });
  const sessionToken = await createSession(db, user.id, input.sessionHours);
  await audit("success", null, user.id);
  return { ok: true, user: { id: user.id, email: user.email, name: user.name }, sessionToken };
}
