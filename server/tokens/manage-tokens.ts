import "server-only";
import { canOnHost, hasPermission, heldPermissions, hostCoverage, type Viewer } from "../auth/access";
import { PERMISSIONS, type Permission } from "../../lib/permissions";
import type { Db } from "../db";
import { bumpAuthGeneration } from "../auth/generation";
import { AppError } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { displayPrefix, generateTokenSecret, hashTokenSecret } from "./format";
import type { CreateTokenInput } from "./schemas";
import { NEVER_BY_TOKEN } from "./scope";
import { isTokenViewer } from "./viewer-for-token";

// A user's own API tokens: create (the secret is returned once), list, revoke.
// Every lookup is scoped to the viewer's user id.

const MAX_ACTIVE_TOKENS = 50;

const LIST_SELECT = {
  id: true,
  name: true,
  prefix: true,
  permissions: true,
  hostIds: true,
  hostGroupIds: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  lastUsedIp: true,
  createdAt: true,
} as const;

export type TokenStatus = "active" | "expired" | "revoked";

export interface TokenListItem {
  id: string;
  name: string;
  prefix: string;
  permissions: string[];
  hosts: { id: string; name: string | null }[];
  hostGroups: { id: string; name: string | null }[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  createdAt: Date;
  status: TokenStatus;
}

function statusOf(row: { expiresAt: Date | null; revokedAt: Date | null }, now: number): TokenStatus {
  if (row.revokedAt) return "revoked";
  if (row.expiresAt && row.expiresAt.getTime() <= now) return "expired";
  return "active";
}

function assertSessionViewer(viewer: Viewer) {
  // Also true through grants (tokens never hold tokens.manage); this says why.
  if (isTokenViewer(viewer)) throw new AppError("FORBIDDEN", "API tokens can't manage API tokens; sign in to the console.");
}

/** The host permissions a token with this list could use, given what the owner holds now. */
function hostPermissionsFor(viewer: Viewer, requested: string[]): Permission[] {
  const held = heldPermissions(viewer).filter((p) => PERMISSIONS[p].scope === "host");
  return requested.length ? held.filter((p) => requested.includes(p)) : held;
}

export async function createToken(db: Db, viewer: Viewer, input: CreateTokenInput) {
  assertSessionViewer(viewer);
  const now = Date.now();
  if (input.expiresAt && input.expiresAt.getTime() <= now) throw new AppError("BAD_REQUEST", "The expiry date must be in the future.");

  for (const p of input.permissions) {
    if (NEVER_BY_TOKEN.has(p as Permission)) throw new AppError("BAD_REQUEST", `API tokens can't hold ${p}.`);
    if (!hasPermission(viewer, p as Permission)) throw new AppError("FORBIDDEN", `You don't hold ${p}, so a token of yours can't either.`);
  }

  // The scope must be hosts and groups the owner reaches with a permission the token would carry.
  if (input.hostIds.length || input.hostGroupIds.length) {
    const accountWide = input.permissions.filter((p) => PERMISSIONS[p as Permission].scope === "global");
    if (accountWide.length) {
      throw new AppError("BAD_REQUEST", `${accountWide.join(", ")} can't be limited to hosts: leave the host scope empty or drop ${accountWide.length > 1 ? "them" : "it"}.`);
    }
    const hostPermissions = hostPermissionsFor(viewer, input.permissions);
    if (!hostPermissions.length) throw new AppError("BAD_REQUEST", "A host scope needs at least one host permission (hosts.read, containers.read, …).");
    const hosts = await db.host.findMany({ where: { id: { in: input.hostIds } }, select: { id: true, hostGroupId: true } });
    for (const hostId of input.hostIds) {
      const host = hosts.find((h) => h.id === hostId);
      if (!host || !hostPermissions.some((p) => canOnHost(viewer, p, host))) {
        throw new AppError("FORBIDDEN", "A host in the scope doesn't exist or isn't one you have access to.");
      }
    }
    const groups = await db.hostGroup.findMany({ where: { id: { in: input.hostGroupIds } }, select: { id: true } });
    for (const groupId of input.hostGroupIds) {
      const covered = hostPermissions.some((p) => {
        const c = hostCoverage(viewer, p);
        return c.all || c.hostGroupIds.includes(groupId);
      });
      if (!groups.some((g) => g.id === groupId) || !covered) {
        throw new AppError("FORBIDDEN", "A host group in the scope doesn't exist or isn't one you have access to.");
      }
    }
  }

  const active = await db.apiToken.findMany({
    where: { userId: viewer.user.id, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date(now) } }] },
    select: { name: true },
  });
  if (active.length >= MAX_ACTIVE_TOKENS) throw new AppError("CONFLICT", `You have ${MAX_ACTIVE_TOKENS} active tokens; revoke one first.`);
  if (active.some((t) => t.name === input.name)) throw new AppError("CONFLICT", `You already have an active token named "${input.name}".`);

  const secret = generateTokenSecret();
  const row = await db.apiToken.create({
    data: {
      userId: viewer.user.id,
      name: input.name,
      prefix: displayPrefix(secret),
      hash: hashTokenSecret(secret),
      permissions: input.permissions,
      hostIds: input.hostIds,
      hostGroupIds: input.hostGroupIds,
      expiresAt: input.expiresAt,
    },
    select: LIST_SELECT,
  });
  const [item] = await withNames(db, [row], now);
  return { token: item!, secret };
}

type TokenRow = Prisma.ApiTokenGetPayload<{ select: typeof LIST_SELECT }>;

async function withNames(db: Db, rows: TokenRow[], now: number): Promise<TokenListItem[]> {
  const hostIds = [...new Set(rows.flatMap((r) => r.hostIds))];
  const groupIds = [...new Set(rows.flatMap((r) => r.hostGroupIds))];
  const [hosts, groups] = await Promise.all([
    hostIds.length ? db.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, name: true } }) : [],
    groupIds.length ? db.hostGroup.findMany({ where: { id: { in: groupIds } }, select: { id: true, name: true } }) : [],
  ]);
  const hostName = new Map(hosts.map((h) => [h.id, h.name]));
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  return rows.map(({ hostIds: hIds, hostGroupIds: gIds, ...r }) => ({
    ...r,
    // A removed host or group keeps its id here and names nothing.
    hosts: hIds.map((id) => ({ id, name: hostName.get(id) ?? null })),
    hostGroups: gIds.map((id) => ({ id, name: groupName.get(id) ?? null })),
    status: statusOf(r, now),
  }));
}

/** The viewer's tokens, newest first. Never the secret or its hash. */
export async function listTokens(db: Db, viewer: Viewer): Promise<TokenListItem[]> {
  assertSessionViewer(viewer);
  const rows = await db.apiToken.findMany({
    where: { userId: viewer.user.id },
    orderBy: { createdAt: "desc" },
    take: 200,
    select: LIST_SELECT,
  });
  return withNames(db, rows, Date.now());
}

/** Revokes one of the viewer's tokens; it stops working on its next request. Revoking twice is a no-op. */
export async function revokeToken(db: Db, viewer: Viewer, input: { id: string }) {
  assertSessionViewer(viewer);
  const row = await db.apiToken.findFirst({ where: { id: input.id, userId: viewer.user.id }, select: { id: true, name: true, prefix: true, revokedAt: true } });
  if (!row) throw new AppError("NOT_FOUND", "No such token.");
  if (row.revokedAt) return { id: row.id, name: row.name, prefix: row.prefix, revokedAt: row.revokedAt };
  const revokedAt = new Date();
  await db.apiToken.updateMany({ where: { id: row.id, userId: viewer.user.id, revokedAt: null }, data: { revokedAt } });
  // Remembered authentications (the Docker-API proxy's) are dropped before this answer goes out.
  bumpAuthGeneration();
  return { id: row.id, name: row.name, prefix: row.prefix, revokedAt };
}

/** What the create form offers: the permissions the viewer holds, and the hosts and groups they reach. */
export async function tokenOptions(db: Db, viewer: Viewer) {
  assertSessionViewer(viewer);
  const permissions = heldPermissions(viewer)
    .filter((p) => !NEVER_BY_TOKEN.has(p))
    .map((p) => ({ name: p, scope: PERMISSIONS[p].scope, description: PERMISSIONS[p].description }));
  const coverages = hostPermissionsFor(viewer, []).map((p) => hostCoverage(viewer, p));
  const all = coverages.some((c) => c.all);
  const hostIds = [...new Set(coverages.flatMap((c) => c.hostIds))];
  const groupIds = [...new Set(coverages.flatMap((c) => c.hostGroupIds))];
  const none = coverages.length === 0;
  const [hosts, hostGroups] = none
    ? [[], []]
    : await Promise.all([
        db.host.findMany({
          where: all ? {} : { OR: [{ id: { in: hostIds } }, { hostGroupId: { in: groupIds } }] },
          orderBy: { name: "asc" },
          select: { id: true, name: true, hostGroupId: true },
        }),
        db.hostGroup.findMany({ where: all ? {} : { id: { in: groupIds } }, orderBy: { name: "asc" }, select: { id: true, name: true } }),
      ]);
  return { permissions, hosts, hostGroups };
}
