import "server-only";
import { hostCoverage, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import type { ApprovalStatusName, ApprovalView, Page } from "../../lib/rollouts/views";
import { canDecide } from "./decision-rules";
import { APPROVAL_INCLUDE, factsFrom, loadApproval } from "./load-approval";
import { approvalViewOf, type ApprovalRow, targetNames } from "./views";

// The approvals inbox: requests on hosts the viewer can read (hosts.read) or
// decide on (deploys.approve); waiting ones first, then the rest, each group
// newest first; cursor pagination over that order; and the count of requests
// the viewer could decide now (the navigation's badge).

export interface ListApprovalsInput {
  status?: ApprovalStatusName[];
  hostId?: string;
  /** Only requests the viewer could decide now. */
  decidable?: boolean;
  /** Only requests the viewer asked for. */
  mine?: boolean;
  cursor?: string;
  limit: number;
}

/** Where the viewer may look: null when nowhere. */
export function visibleWhere(viewer: Viewer): Prisma.ApprovalRequestWhereInput | null {
  const read = hostCoverage(viewer, "hosts.read");
  const approve = hostCoverage(viewer, "deploys.approve");
  if (read.all || approve.all) return {};
  const hostIds = [...new Set([...read.hostIds, ...approve.hostIds])];
  const groupIds = [...new Set([...read.hostGroupIds, ...approve.hostGroupIds])];
  if (!hostIds.length && !groupIds.length) return null;
  return { OR: [{ hostId: { in: hostIds } }, { rollout: { host: { hostGroupId: { in: groupIds } } } }] };
}

/** Where the viewer holds deploys.approve: null when nowhere. */
function approvableWhere(viewer: Viewer): Prisma.ApprovalRequestWhereInput | null {
  const c = hostCoverage(viewer, "deploys.approve");
  if (c.all) return {};
  if (!c.hostIds.length && !c.hostGroupIds.length) return null;
  return { OR: [{ hostId: { in: c.hostIds } }, { rollout: { host: { hostGroupId: { in: c.hostGroupIds } } } }] };
}

// ---- cursor: "<group>.<createdAt ms>.<id>", group 0 = waiting, 1 = the rest ----

interface Cursor {
  group: 0 | 1;
  at: Date;
  id: string;
}

export function encodeCursor(row: { status: string; createdAt: Date; id: string }): string {
  return `${row.status === "waiting" ? 0 : 1}.${row.createdAt.getTime()}.${row.id}`;
}

export function decodeCursor(s: string): Cursor {
  const m = /^([01])\.(\d{1,15})\.([A-Za-z0-9_-]{1,40})$/.exec(s);
  if (!m) throw new AppError("BAD_REQUEST", "Invalid cursor: pass the nextCursor of the previous page as it was.");
  return { group: m[1] === "0" ? 0 : 1, at: new Date(Number(m[2])), id: m[3]! };
}

async function webhookCreators(db: Db, rows: { rollout: { webhookId: string | null } }[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.flatMap((r) => (r.rollout.webhookId ? [r.rollout.webhookId] : [])))];
  if (!ids.length) return new Map();
  const hooks = await db.webhook.findMany({ where: { id: { in: ids } }, select: { id: true, createdById: true } });
  return new Map(hooks.map((h) => [h.id, h.createdById]));
}

function decidable(viewer: Viewer, row: ApprovalRow, creators: Map<string, string>, now: Date): boolean {
  const creator = row.rollout.webhookId ? (creators.get(row.rollout.webhookId) ?? null) : null;
  return canDecide(viewer, row.rollout.host, factsFrom(row, creator), now);
}

export async function listApprovals(db: Db, viewer: Viewer, input: ListApprovalsInput, now = new Date()): Promise<Page<ApprovalView>> {
  const scope = input.decidable ? approvableWhere(viewer) : visibleWhere(viewer);
  if (scope === null) return { items: [], nextCursor: null };
  const cursor = input.cursor ? decodeCursor(input.cursor) : null;
  const statuses = input.status?.length ? input.status : null;
  const base: Prisma.ApprovalRequestWhereInput[] = [scope];
  if (input.hostId) base.push({ hostId: input.hostId });
  if (input.mine) base.push({ requestedById: viewer.user.id });
  if (input.decidable) base.push({ status: "waiting", expiresAt: { gt: now } });

  const limit = input.limit;
  const rows: ApprovalRow[] = [];
  for (const group of [0, 1] as const) {
    if (cursor && cursor.group > group) continue;
    const wanted = statuses ? statuses.filter((s) => (s === "waiting") === (group === 0)) : null;
    if (wanted && !wanted.length) continue;
    const where: Prisma.ApprovalRequestWhereInput = {
      AND: [
        ...base,
        wanted ? { status: { in: wanted } } : group === 0 ? { status: "waiting" } : { status: { not: "waiting" } },
        ...(cursor && cursor.group === group ? [{ OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] }] : []),
      ],
    };
    // A decidable-only list filters by person after the query: look a bounded way further so a page isn't cut short by the viewer's own requests.
    const take = (limit + 1 - rows.length) * (input.decidable ? 4 : 1);
    const found = await db.approvalRequest.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take, include: APPROVAL_INCLUDE });
    rows.push(...found);
    if (rows.length > limit) break;
  }
  const creators = await webhookCreators(db, rows);
  const kept = input.decidable ? rows.filter((r) => decidable(viewer, r, creators, now)) : rows;
  const items = kept.slice(0, limit);
  // Rows beyond the page (or left out as not decidable by the viewer, which may hide more after them).
  const more = rows.length > items.length;
  const names = await targetNames(db, items.map((r) => r.rollout));
  return {
    items: items.map((r) => approvalViewOf(r, names, decidable(viewer, r, creators, now))),
    nextCursor: more && items.length ? encodeCursor(items.at(-1)!) : null,
  };
}

export async function getApproval(db: Db, viewer: Viewer, id: string, now = new Date()): Promise<ApprovalView> {
  const row = await loadApproval(db, viewer, id);
  const creators = await webhookCreators(db, [row]);
  return approvalViewOf(row, await targetNames(db, [row.rollout]), decidable(viewer, row, creators, now));
}

/** How many requests the viewer could decide now (bounded: counts up to 1000). */
export async function countDecidable(db: Db, viewer: Viewer, now = new Date()): Promise<number> {
  const scope = approvableWhere(viewer);
  if (scope === null) return 0;
  const rows = await db.approvalRequest.findMany({
    where: { AND: [scope, { status: "waiting", expiresAt: { gt: now } }] },
    include: APPROVAL_INCLUDE,
    orderBy: { createdAt: "desc" },
    take: 1000,
  });
  const creators = await webhookCreators(db, rows);
  return rows.filter((r) => decidable(viewer, r, creators, now)).length;
}

/** The approval of each rollout (for rollout rows' "approved by"). */
export async function approvalsOfRollouts(db: Db, rolloutIds: string[]) {
  if (!rolloutIds.length) return new Map<string, Awaited<ReturnType<Db["approvalRequest"]["findFirst"]>>>();
  const rows = await db.approvalRequest.findMany({ where: { rolloutId: { in: rolloutIds } } });
  return new Map(rows.map((r) => [r.rolloutId, r]));
}
