import "server-only";
import { randomBytes } from "node:crypto";
import type { Db } from "../db";
import { loadGrants, type Viewer } from "./access";

// Auth.js keeps a signed JWT in the cookie; the JWT carries only the id of a
// Session row. Every request checks that row and the user, so signing out,
// disabling a user or removing a role takes effect at once.

export async function createSession(db: Db, userId: string, hours: number): Promise<string> {
  const sessionToken = randomBytes(32).toString("base64url");
  await db.session.create({
    data: { sessionToken, userId, expires: new Date(Date.now() + hours * 3600_000) },
  });
  return sessionToken;
}

export async function endSession(db: Db, sessionToken: string): Promise<{ userId: string; email: string } | null> {
  const session = await db.session.findUnique({ where: { sessionToken }, include: { user: true } });
  if (!session) return null;
  await db.session.deleteMany({ where: { sessionToken } });
  return { userId: session.userId, email: session.user.email };
}

export async function viewerForSession(db: Db, sessionToken: string | null | undefined): Promise<Viewer | null> {
  if (!sessionToken) return null;
  const session = await db.session.findUnique({ where: { sessionToken }, include: { user: true } });
  if (!session || session.expires.getTime() <= Date.now() || session.user.disabled) return null;
  return {
    user: { id: session.user.id, email: session.user.email, name: session.user.name },
    sessionId: sessionToken,
    grants: await loadGrants(db, session.user.id),
  };
}

/**
 * The viewer of a user as they are now, with no session: what a webhook or a
 * watch acts as (its creator). Null for a user who is gone or disabled, so
 * what they set up stops working with them.
 */
export async function viewerForUser(db: Db, userId: string): Promise<Viewer | null> {
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user || user.disabled) return null;
  return { user: { id: user.id, email: user.email, name: user.name }, sessionId: null, grants: await loadGrants(db, user.id) };
}
