import "server-only";
// Also loaded by the Docker-API proxy in server/main.ts, outside Next's bundle, where "server-only" can't be imported.
import type { Actor, RequestMeta } from "../audit/types";
import { loadGrants, type Viewer } from "../auth/access";
import { viewerForUser } from "../auth/sessions";
import type { Db } from "../db";
import { hashTokenSecret, isTokenSecret } from "./format";
import { isHostScoped, tokenGrants } from "./scope";

// Bearer token → Viewer. The owner's grants are loaded on every request (as
// for sessions), so disabling the owner or removing a role takes effect at once.

/** How often lastUsedAt/lastUsedIp are written at most, per token. */
export const LAST_USED_EVERY_MS = 60_000;

/** A Viewer acting through an API token. `user` is the owner; `actor` is what audit records should name. */
export interface TokenViewer extends Viewer {
  /** expiresAt: when the token stops working (null: never); set by authenticateToken. */
  token: { id: string; name: string; expiresAt?: Date | null };
  actor: Actor;
}

export function isTokenViewer(viewer: Viewer | null | undefined): viewer is TokenViewer {
  return !!viewer && typeof (viewer as Partial<TokenViewer>).token === "object" && (viewer as Partial<TokenViewer>).token !== null;
}

export function tokenActor(token: { id: string; name: string }, ownerEmail: string): Actor {
  return { type: "token", id: token.id, label: `${token.name} (${ownerEmail})` };
}

export type TokenRefusal = "unknown" | "expired" | "revoked" | "ownerDisabled";

export type TokenAuthentication =
  | { ok: true; viewer: TokenViewer }
  /** `actor` is set when the secret matched a token (expired, revoked, owner disabled), so the refusal can name it. */
  | { ok: false; reason: TokenRefusal; actor: Actor | null };

export async function authenticateToken(db: Db, secret: string, meta: RequestMeta): Promise<TokenAuthentication> {
  if (!isTokenSecret(secret)) return { ok: false, reason: "unknown", actor: null };
  const token = await db.apiToken.findUnique({ where: { hash: hashTokenSecret(secret) } });
  if (!token) return { ok: false, reason: "unknown", actor: null };
  // The owner and their grants in one round trip (the grants are only used once every check below passed).
  const [owner, grants] = await Promise.all([
    db.user.findUnique({ where: { id: token.userId }, select: { id: true, email: true, name: true, disabled: true } }),
    loadGrants(db, token.userId),
  ]);
  if (!owner) return { ok: false, reason: "unknown", actor: null };
  const actor = tokenActor(token, owner.email);
  if (token.revokedAt) return { ok: false, reason: "revoked", actor };
  if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) return { ok: false, reason: "expired", actor };
  if (owner.disabled) return { ok: false, reason: "ownerDisabled", actor };

  // Where each host the token or a grant names sits now (hosts move between groups).
  const namedHosts = isHostScoped(token)
    ? [...new Set([...token.hostIds, ...grants.flatMap((g) => (g.scope.type === "host" ? [g.scope.id] : []))])]
    : [];
  const hosts = namedHosts.length
    ? await db.host.findMany({ where: { id: { in: namedHosts } }, select: { id: true, hostGroupId: true } })
    : [];

  await recordUse(db, token, meta);
  return {
    ok: true,
    viewer: {
      user: { id: owner.id, email: owner.email, name: owner.name },
      sessionId: null,
      grants: tokenGrants(grants, token, new Map(hosts.map((h) => [h.id, h.hostGroupId]))),
      token: { id: token.id, name: token.name, expiresAt: token.expiresAt },
      actor,
    },
  };
}

/** The token's viewer, or null for an unknown, expired or revoked token or a disabled owner. */
export async function viewerForToken(db: Db, secret: string, meta: RequestMeta): Promise<TokenViewer | null> {
  const result = await authenticateToken(db, secret, meta);
  return result.ok ? result.viewer : null;
}

/** At most one write per token a minute, whatever the request rate: the row says roughly when and from where. */
async function recordUse(db: Db, token: { id: string; lastUsedAt: Date | null }, meta: RequestMeta) {
  const cutoff = new Date(Date.now() - LAST_USED_EVERY_MS);
  if (token.lastUsedAt && token.lastUsedAt > cutoff) return;
  // The condition makes concurrent requests write once; a failed write never fails the request.
  await db.apiToken
    .updateMany({
      where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: cutoff } }] },
      data: { lastUsedAt: new Date(), lastUsedIp: meta.ip ?? null },
    })
    .catch((e: unknown) => console.error(`[berth] api token ${token.id}: recording last use failed:`, e instanceof Error ? e.message : e));
}

/**
 * The viewer something set up earlier acts as (a webhook, a watch): its
 * creator as they are now — narrowed to the API token it was made through,
 * if any, so it never does more than that token may, and stops when the
 * token is revoked or expires. Null: creator gone or disabled, token gone,
 * revoked or expired (fail closed).
 */
export async function viewerForCreator(db: Db, creator: { userId: string; tokenId: string | null }): Promise<Viewer | null> {
  if (!creator.tokenId) return viewerForUser(db, creator.userId);
  const token = await db.apiToken.findUnique({ where: { id: creator.tokenId } });
  if (!token || token.userId !== creator.userId || token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= Date.now())) return null;
  const owner = await viewerForUser(db, creator.userId);
  if (!owner) return null;
  const namedHosts = isHostScoped(token) ? [...new Set([...token.hostIds, ...owner.grants.flatMap((g) => (g.scope.type === "host" ? [g.scope.id] : []))])] : [];
  const hosts = namedHosts.length ? await db.host.findMany({ where: { id: { in: namedHosts } }, select: { id: true, hostGroupId: true } }) : [];
  return { ...owner, grants: tokenGrants(owner.grants, token, new Map(hosts.map((h) => [h.id, h.hostGroupId]))) };
}
