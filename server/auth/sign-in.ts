import "server-only";
import { emitSignal } from "../alerts/signals";
import type { Db } from "../db";
import { writeAudit } from "../audit/write";
import type { RequestMeta } from "../audit/types";
import { verifyPassword } from "./password";
import { createSession } from "./sessions";

export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_THRESHOLD = 5;
/** An address the account signed in from within this many days is not held by the account's lock. */
export const KNOWN_ADDRESS_DAYS = 30;

// Advisory-lock classes (two-int4 form, a key space apart from the audit chain's
// and Prisma's bigint locks): one serialises the decisions for an account, the
// other those for a client address.
const ACCOUNT_LOCK_CLASS = 72707371;
const ADDRESS_LOCK_CLASS = 72707372;
/** Stands for a missing client address (as server/main.ts writes it). */
const UNKNOWN_IP = "unknown";

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

export interface Lock {
  until: Date;
  /** "address": too many failures from this client address; "account": too many for the account, and this address is unknown to it. */
  scope: "address" | "account";
}

/**
 * The lock that stops an attempt, or null. Two limits, each five failures in
 * the window:
 * - per client address, across accounts: stops one source guessing anywhere;
 * - per account, across addresses, but only for addresses the account has not
 *   signed in from successfully lately. Anyone can fail five times on purpose;
 *   that must not keep the owner out of their own account from where they
 *   usually sign in, while a guesser on new addresses still gets five tries
 *   per window in all. A success does not reset the count, or the owner's own
 *   sign-ins would hand the guesser fresh tries.
 */
async function lockFor(tx: Tx, email: string, ip: string): Promise<Lock | null> {
  const since = new Date(Date.now() - LOCKOUT_WINDOW_MS);
  const recentFailures = (where: { email: string } | { ip: string }) =>
    tx.loginAttempt.findMany({
      where: { ...where, success: false, createdAt: { gte: since } },
      orderBy: { createdAt: "desc" },
      take: LOCKOUT_THRESHOLD,
      select: { createdAt: true },
    });
  const locks: Lock[] = [];
  const byAddress = lockEnd(await recentFailures({ ip }));
  if (byAddress !== null) locks.push({ until: new Date(byAddress), scope: "address" });
  const byAccount = lockEnd(await recentFailures({ email }));
  if (byAccount !== null && !(await isKnownAddress(tx, email, ip))) locks.push({ until: new Date(byAccount), scope: "account" });
  return locks.sort((a, b) => b.until.getTime() - a.until.getTime())[0] ?? null;
}

/** Whether the account signed in successfully from this address within KNOWN_ADDRESS_DAYS. */
async function isKnownAddress(tx: Tx, email: string, ip: string): Promise<boolean> {
  // Without a client address nothing can be known about it.
  if (ip === UNKNOWN_IP) return false;
  const since = new Date(Date.now() - KNOWN_ADDRESS_DAYS * 24 * 3600_000);
  const success = await tx.loginAttempt.findFirst({
    where: { email, ip, success: true, createdAt: { gte: since } },
    select: { id: true },
  });
  return success !== null;
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
): Promise<{ admitted: true; attemptId: bigint } | { admitted: false; lock: Lock }> {
  return db.$transaction(
    async (tx) => {
      // Always the account first, then the address: every decision takes the two in the same order, so none deadlock.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ACCOUNT_LOCK_CLASS}::int4, hashtext(${email}))`;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADDRESS_LOCK_CLASS}::int4, hashtext(${ip}))`;
      const lock = await lockFor(tx, email, ip);
      if (lock) return { admitted: false as const, lock };
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
  const ip = input.meta.ip ?? UNKNOWN_IP;
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
    const { until, scope } = admission.lock;
    const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
    const where = scope === "address" ? "from this address" : "on this account from addresses it has not signed in from";
    emitSignal({ type: "signin.lockout", email, ip: input.meta.ip ?? null, at: new Date() });
    await audit("denied", `locked out after ${LOCKOUT_THRESHOLD} failed attempts ${where}; retry in ${retryAfterSeconds}s`, null);
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
