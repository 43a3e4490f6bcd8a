import "server-only";
import type { StackModel, StackSource } from "../../../lib/compose/model";
import { canOnHost, hostCoverage, requireOnHost, type HostRef, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { projectContainers, type ProjectContainer } from "../../stacks/host-state";
import { coveredHosts } from "../hosts/list-hosts";
import type { FleetAccess } from "../service-deps";
import type { Permission } from "../../../lib/permissions";

// Stacks as the console and the API show them: the stored stack and its
// current version, with each service's state read live from the host's
// containers (by their compose labels).

export type StackStatus = "running" | "partial" | "stopped" | "applying" | "failed" | "down";
export type Health = "healthy" | "unhealthy" | "starting" | null;

export interface StackServiceSummary {
  name: string;
  replicas: number;
  running: number;
  health: Health;
}

export interface StackSummary {
  id: string;
  name: string;
  hostId: string;
  hostName: string;
  status: StackStatus;
  services: StackServiceSummary[];
  version: number;
  updatedAt: string;
  updatedBy: string | null;
}

type StackRow = {
  id: string;
  name: string;
  hostId: string;
  project: string;
  status: string;
  currentVersion: number;
  lastError: string | null;
  updatedAt: Date;
  updatedById: string | null;
  host: { name: string; hostGroupId: string | null };
};

const ROW = { id: true, name: true, hostId: true, project: true, status: true, currentVersion: true, lastError: true, updatedAt: true, updatedById: true, host: { select: { name: true, hostGroupId: true } } } as const;

/** A stack on a host the viewer holds `permission` on; anything else is NOT_FOUND/FORBIDDEN alike (no lookup by id alone). */
export async function stackFor(db: Db, viewer: Viewer, stackId: string, permission: Permission): Promise<StackRow> {
  const row = await db.stack.findUnique({ where: { id: stackId }, select: ROW });
  const host: HostRef | null = row ? { id: row.hostId, hostGroupId: row.host.hostGroupId } : null;
  requireOnHost(viewer, permission, host, `You need the ${permission} permission on this stack's host.`);
  return row!;
}

export function healthOf(status: string): Health {
  if (/\(healthy\)/.test(status)) return "healthy";
  if (/\(unhealthy\)/.test(status)) return "unhealthy";
  if (/health: starting/.test(status)) return "starting";
  return null;
}

function worst(list: Health[]): Health {
  if (list.includes("unhealthy")) return "unhealthy";
  if (list.includes("starting")) return "starting";
  if (list.includes("healthy")) return "healthy";
  return null;
}

/** A service's containers that completed as they should count as up (an init job others wait on). */
function completedJob(model: StackModel, service: string, c: ProjectContainer): boolean {
  return c.state === "exited" && /Exited \(0\)/.test(c.status) && model.services.some((s) => s.dependsOn.some((d) => d.service === service && d.condition === "service_completed_successfully"));
}

export function summarise(model: StackModel | null, containers: ProjectContainer[] | null, stored: string): { status: StackStatus; services: StackServiceSummary[] } {
  const services = (model?.services ?? []).map((s) => {
    const mine = (containers ?? []).filter((c) => c.service === s.name);
    const running = mine.filter((c) => c.state === "running" || completedJob(model!, s.name, c)).length;
    return { name: s.name, replicas: s.replicas, running, health: worst(mine.map((c) => healthOf(c.status))) };
  });
  if (stored === "applying" || stored === "down" || stored === "failed") return { status: stored, services };
  if (containers === null) return { status: "partial", services };
  const wanted = services.filter((s) => s.replicas > 0);
  const up = wanted.filter((s) => s.running >= s.replicas).length;
  const none = wanted.every((s) => s.running === 0);
  const status: StackStatus = wanted.length === 0 || up === wanted.length ? "running" : none ? "stopped" : "partial";
  return { status, services };
}

async function currentModels(db: Db, stacks: StackRow[]): Promise<Map<string, { model: StackModel; source: StackSource }>> {
  const wanted = stacks.filter((s) => s.currentVersion > 0);
  if (!wanted.length) return new Map();
  const versions = await db.stackVersion.findMany({ where: { OR: wanted.map((s) => ({ stackId: s.id, number: s.currentVersion })) }, select: { stackId: true, model: true, source: true } });
  return new Map(versions.map((v) => [v.stackId, { model: v.model as unknown as StackModel, source: v.source as unknown as StackSource }]));
}

async function emails(db: Db, ids: (string | null)[]): Promise<Map<string, string>> {
  const list = [...new Set(ids.filter((i): i is string => i !== null))];
  if (!list.length) return new Map();
  return new Map((await db.user.findMany({ where: { id: { in: list } }, select: { id: true, email: true } })).map((u) => [u.id, u.email]));
}

/** Each host's project containers, live; null for a host that can't be asked now. */
async function liveContainers(fleet: FleetAccess, stacks: StackRow[]): Promise<Map<string, ProjectContainer[] | null>> {
  const out = new Map<string, ProjectContainer[] | null>();
  if (!stacks.length) return out;
  const { fleet: f } = await fleet();
  await Promise.all(
    stacks.map(async (s) => {
      if (s.status === "down") return out.set(s.id, []);
      try {
        out.set(s.id, await projectContainers(f.client(s.hostId), s.project));
      } catch {
        out.set(s.id, null);
      }
    }),
  );
  return out;
}

function summaryOf(s: StackRow, model: StackModel | null, containers: ProjectContainer[] | null, email: string | null): StackSummary {
  const { status, services } = summarise(model, containers, s.status);
  return { id: s.id, name: s.name, hostId: s.hostId, hostName: s.host.name, status, services, version: s.currentVersion, updatedAt: s.updatedAt.toISOString(), updatedBy: email };
}

export async function listStacks(o: { db: Db; viewer: Viewer; fleet: FleetAccess; hostId?: string; cursor?: string; limit: number }): Promise<{ items: StackSummary[]; nextCursor: string | null }> {
  const where = { host: coveredHosts(hostCoverage(o.viewer, "stacks.read")), ...(o.hostId ? { hostId: o.hostId } : {}) };
  const rows = await o.db.stack.findMany({
    where,
    orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
    take: o.limit + 1,
    ...(o.cursor ? { cursor: { id: o.cursor }, skip: 1 } : {}),
    select: ROW,
  });
  const page = rows.slice(0, o.limit);
  const [models, live, who] = await Promise.all([currentModels(o.db, page), liveContainers(o.fleet, page), emails(o.db, page.map((r) => r.updatedById))]);
  return {
    items: page.map((s) => summaryOf(s, models.get(s.id)?.model ?? null, live.get(s.id) ?? null, s.updatedById ? (who.get(s.updatedById) ?? null) : null)),
    nextCursor: rows.length > o.limit ? page[page.length - 1]!.id : null,
  };
}

export async function getStack(o: { db: Db; viewer: Viewer; fleet: FleetAccess; stackId: string }) {
  const s = await stackFor(o.db, o.viewer, o.stackId, "stacks.read");
  const [models, live, who] = await Promise.all([currentModels(o.db, [s]), liveContainers(o.fleet, [s]), emails(o.db, [s.updatedById])]);
  const current = models.get(s.id) ?? null;
  const containers = live.get(s.id) ?? null;
  const summary = summaryOf(s, current?.model ?? null, containers, s.updatedById ? (who.get(s.updatedById) ?? null) : null);
  return {
    ...summary,
    source: current?.source ?? { files: [] },
    lastError: s.lastError,
    services: summary.services.map((svc) => {
      const model = current?.model.services.find((m) => m.name === svc.name);
      return {
        ...svc,
        image: model?.spec.image ?? "",
        containers: (containers ?? [])
          .filter((c) => c.service === svc.name)
          .map((c) => ({ id: c.id, name: c.name, number: c.number, state: c.state, status: c.status, health: healthOf(c.status) })),
      };
    }),
  };
}

export async function listVersions(o: { db: Db; viewer: Viewer; stackId: string }) {
  await stackFor(o.db, o.viewer, o.stackId, "stacks.read");
  const rows = await o.db.stackVersion.findMany({
    where: { stackId: o.stackId },
    orderBy: { number: "desc" },
    select: { number: true, createdAt: true, createdById: true, result: true, error: true, rollbackOf: true },
  });
  const who = await emails(o.db, rows.map((r) => r.createdById));
  return {
    items: rows.map((r) => ({
      version: r.number,
      createdAt: r.createdAt.toISOString(),
      createdBy: r.createdById ? (who.get(r.createdById) ?? null) : null,
      result: r.result as "applied" | "failed" | "pending",
      error: r.error,
      rollbackOf: r.rollbackOf,
    })),
  };
}

export async function getVersion(o: { db: Db; viewer: Viewer; stackId: string; version: number }) {
  await stackFor(o.db, o.viewer, o.stackId, "stacks.read");
  const row = await o.db.stackVersion.findUnique({ where: { stackId_number: { stackId: o.stackId, number: o.version } }, select: { number: true, source: true, rendered: true } });
  if (!row) throw new AppError("NOT_FOUND", `This stack has no version ${o.version}.`);
  return { version: row.number, source: row.source as unknown as StackSource, rendered: row.rendered };
}

/** Whether the viewer may read stacks on the host (for the list's host filter). */
export function mayReadStacksOn(viewer: Viewer, host: HostRef): boolean {
  return canOnHost(viewer, "stacks.read", host);
}
