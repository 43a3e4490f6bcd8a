import "server-only";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { hostCoverage, requireGlobal, type Viewer } from "../../auth/access";
import { agentConfigOf, agentConfigSchema, type AgentConfig } from "../../fleet/agent-config";
import { sealCredential } from "../../fleet/credentials";
import { FleetError, isFleetError } from "../../fleet/errors";
import type { FleetServices } from "../../fleet/instance";
import { checkHost, installAgent, uninstallAgent, upgradeAgent, type InstallStep } from "../../fleet/install/installer";
import { SshLink } from "../../fleet/link";
import { connectSsh, fetchHostKey } from "../../fleet/ssh/connect";
import { FINGERPRINT_PATTERN } from "../../fleet/ssh/fingerprint";
import { sshAuthSchema, sshEndpointSchema, type SshTarget } from "../../fleet/ssh/target";
import { Prisma } from "../../generated/prisma/client";
import { z } from "zod";
import { HOST_VIEW_SELECT, hostView, type HostView } from "./host-view";
import type { FleetAccess } from "../service-deps";
import { coveredHosts } from "./list-hosts";

// Adding hosts (probe → confirm the key → add), re-pinning, and the agent's
// install, upgrade and removal. The fleet holds the live connections.
// Adding a host can't be scoped to a host that isn't there yet, and moving
// one between groups would let a group-scoped admin give hosts away: both take
// hosts.manage everywhere, checked here before any host is contacted.

const PROBE_TIMEOUT_MS = 10_000;

/** A host the caller has already checked the viewer's rights on (a host-scoped procedure). */
interface OnHost {
  db: Db;
  services: FleetServices;
  hostId: string;
}

export const probeInputSchema = sshEndpointSchema.extend({ auth: sshAuthSchema });
export type ProbeInput = z.infer<typeof probeInputSchema>;

export const addHostInputSchema = probeInputSchema.extend({
  name: z
    .string()
    .trim()
    .min(1, "name the host")
    .max(63)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, dot, dash and underscore"),
  fingerprint: z.string().regex(FINGERPRINT_PATTERN, "confirm the host key fingerprint (SHA256:…) first"),
  hostGroupId: z.string().min(1).max(64).nullish(),
  labels: z.array(z.string().trim().min(1).max(60)).max(20).default([]),
  agent: agentConfigSchema.partial().optional(),
});
export type AddHostInput = z.infer<typeof addHostInputSchema>;

function targetOf(input: ProbeInput): SshTarget {
  return { address: input.address, port: input.port, username: input.username, auth: input.auth };
}

/** Step 1: the host's key fingerprint for the user to confirm. No credential is sent (the handshake stops at the key). */
export async function probeHost({ viewer, input }: { viewer: Viewer; input: ProbeInput }): Promise<{ fingerprint: string }> {
  requireGlobal(viewer, "hosts.manage", "Adding hosts");
  return { fingerprint: await fetchHostKey(input, PROBE_TIMEOUT_MS) };
}

async function uniqueName<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      throw new AppError("CONFLICT", `A host named "${name}" already exists.`);
    }
    throw e;
  }
}

/** Adds a host whose key the user confirmed. The key is checked again here: it must still be the one confirmed. */
export async function addHost({ db, viewer, fleet, input }: { db: Db; viewer: Viewer; fleet: FleetAccess; input: AddHostInput }): Promise<HostView> {
  requireGlobal(viewer, "hosts.manage", "Adding hosts");
  const services = await fleet();
  let probed;
  try {
    const session = await connectSsh(targetOf(input), { pinned: input.fingerprint, timeoutMs: PROBE_TIMEOUT_MS });
    try {
      const uname = await new SshLink(session.client, input.username).runAsUser("uname -s", { timeoutMs: PROBE_TIMEOUT_MS });
      probed = uname.stdout.trim();
    } finally {
      session.client.end();
    }
  } catch (e) {
    if (isFleetError(e) && e.code === "HOST_KEY_CHANGED") {
      throw new AppError(
        "CONFLICT",
        `The host now presents ${e.details.presentedFingerprint}, not the ${input.fingerprint} you confirmed. Check the host before adding it.`,
      );
    }
    throw e;
  }
  if (probed !== "Linux") throw new FleetError("NOT_LINUX", `The host runs ${probed || "an unknown system"}; Berth hosts must run Linux.`);
  if (input.hostGroupId && !(await db.hostGroup.findUnique({ where: { id: input.hostGroupId } }))) {
    throw new AppError("BAD_REQUEST", "That host group does not exist.");
  }
  const agent = agentConfigSchema.parse(input.agent ?? {});
  const row = await uniqueName(input.name, () =>
    db.host.create({
      data: {
        name: input.name,
        address: input.address,
        port: input.port,
        username: input.username,
        authMethod: input.auth.method,
        credential: sealCredential(services.box, input.auth),
        hostKeyFingerprint: input.fingerprint,
        hostGroupId: input.hostGroupId ?? null,
        labels: input.labels,
        agentConfig: agent,
        status: "pending",
      },
      select: HOST_VIEW_SELECT,
    }),
  );
  await services.fleet.sync(row.id);
  return hostView(row, services.fleet.snapshot(row.id));
}

/** "This machine": the gateway runs the agent itself, no SSH. */
export async function addLocalHost(o: { db: Db; viewer: Viewer; fleet: FleetAccess; name: string; agent?: Partial<AgentConfig> }): Promise<HostView> {
  requireGlobal(o.viewer, "hosts.manage", "Adding hosts");
  const { db, name } = o;
  const services = await o.fleet();
  if (await db.host.findFirst({ where: { transport: "local" } })) {
    throw new AppError("CONFLICT", "This machine is already a host.");
  }
  const row = await uniqueName(name, () =>
    db.host.create({
      data: { name, address: "local", port: 0, transport: "local", authMethod: "none", agentConfig: agentConfigSchema.parse(o.agent ?? {}), status: "pending" },
      select: HOST_VIEW_SELECT,
    }),
  );
  await services.fleet.sync(row.id);
  return hostView(row, services.fleet.snapshot(row.id));
}

/** The hosts the viewer may read (hosts.read), by name. */
export async function listHostViews({ db, viewer, services }: { db: Db; viewer: Viewer; services: FleetServices }): Promise<HostView[]> {
  const rows = await db.host.findMany({
    where: coveredHosts(hostCoverage(viewer, "hosts.read")),
    orderBy: { name: "asc" },
    select: HOST_VIEW_SELECT,
  });
  const bundle = await services.fleet.bundleSha256();
  return rows.map((r) => hostView(r, services.fleet.snapshot(r.id), bundle));
}

/** The fleet at a glance from the last known state: answers at once even when hosts are down. */
export async function getFleetOverview(o: { db: Db; viewer: Viewer; services: FleetServices }) {
  const hosts = await listHostViews(o);
  return {
    hosts,
    totals: {
      hosts: hosts.length,
      connected: hosts.filter((h) => h.status === "connected").length,
      needsAttention: hosts.filter((h) => h.status !== "connected" || h.agent !== "ok").length,
      containers: hosts.reduce((n, h) => n + (h.containerCount ?? 0), 0),
      running: hosts.reduce((n, h) => n + (h.runningCount ?? 0), 0),
    },
  };
}

export async function getHostView({ db, services, hostId }: OnHost): Promise<HostView> {
  const row = await db.host.findUnique({ where: { id: hostId }, select: HOST_VIEW_SELECT });
  if (!row) throw new AppError("NOT_FOUND", "No such host.");
  return hostView(row, services.fleet.snapshot(hostId), await services.fleet.bundleSha256());
}

/**
 * Accepts the key a host now presents. The caller must name it, so nobody
 * re-pins a key they haven't seen. Naming the key already pinned changes
 * nothing and is always allowed: it asks for a check now (the host also
 * reconnects by itself once it presents that key again).
 */
export async function repinHost({ db, services, hostId, fingerprint }: OnHost & { fingerprint: string }): Promise<{ previous: string | null; pinned: string }> {
  const host = await db.host.findUnique({ where: { id: hostId } });
  if (!host) throw new AppError("NOT_FOUND", "No such host.");
  if (host.hostKeyFingerprint && fingerprint === host.hostKeyFingerprint) {
    services.fleet.retryNow(hostId);
    return { previous: host.hostKeyFingerprint, pinned: fingerprint };
  }
  if (host.status !== "hostKeyChanged" || !host.presentedFingerprint) {
    throw new AppError("PRECONDITION_FAILED", "The host's key has not changed: there is nothing to re-pin.");
  }
  if (host.presentedFingerprint !== fingerprint) {
    throw new AppError("CONFLICT", `The host presented ${host.presentedFingerprint}, not ${fingerprint}.`);
  }
  await db.host.update({
    where: { id: hostId },
    data: { hostKeyFingerprint: fingerprint, presentedFingerprint: null, status: "pending", statusMessage: null },
  });
  await services.fleet.sync(hostId);
  return { previous: host.hostKeyFingerprint, pinned: fingerprint };
}

export async function removeHost({ db, services, hostId }: OnHost): Promise<void> {
  await db.host.delete({ where: { id: hostId } }).catch(() => {
    throw new AppError("NOT_FOUND", "No such host.");
  });
  await services.fleet.sync(hostId);
}

// One install, upgrade or uninstall per host at a time (they rewrite the same files).
const busy = new Set<string>();

async function exclusively<T>(hostId: string, work: () => Promise<T>): Promise<T> {
  if (busy.has(hostId)) throw new AppError("CONFLICT", "An agent install, upgrade or removal is already running on this host.");
  busy.add(hostId);
  try {
    return await work();
  } finally {
    busy.delete(hostId);
  }
}

async function installDeps({ db, services, hostId }: OnHost) {
  const onStep = (step: InstallStep, detail: string) => services.fleet.reportInstall(hostId, step, detail);
  const host = await db.host.findUnique({ where: { id: hostId }, select: { agentConfig: true } });
  if (!host) throw new AppError("NOT_FOUND", "No such host.");
  const connection = services.fleet.connection(hostId);
  await connection.settled();
  return { link: connection.requireLink(), config: agentConfigOf(host.agentConfig), bundle: services.fleet.bundle, client: connection.client, onStep };
}

export async function checkPrereqs(o: OnHost) {
  return checkHost(await installDeps(o));
}

async function recordInstall({ db, services, hostId }: OnHost, result: { facts: object; version: string }) {
  await db.host.update({ where: { id: hostId }, data: { facts: result.facts, agentVersion: result.version, lastSeenAt: new Date() } });
  // The live watcher picks the agent up again.
  await services.fleet.sync(hostId);
}

export async function installHostAgent(o: OnHost & { installPackages: boolean }) {
  const local = o.services.fleet.localAgent(o.hostId);
  if (local) throw new AppError("PRECONDITION_FAILED", "This machine's agent is run by the gateway itself; there is nothing to install.");
  return exclusively(o.hostId, async () => {
    const result = await installAgent(await installDeps(o), { installPackages: o.installPackages });
    await recordInstall(o, result);
    return { version: result.version, sha256: result.sha256 };
  });
}

export async function upgradeHostAgent(o: OnHost) {
  const local = o.services.fleet.localAgent(o.hostId);
  if (local) {
    await local.restart();
    return { version: null, sha256: null };
  }
  return exclusively(o.hostId, async () => {
    const result = await upgradeAgent(await installDeps(o));
    await recordInstall(o, result);
    return { version: result.version, sha256: result.sha256 };
  });
}

export async function uninstallHostAgent(o: OnHost & { removeData: boolean }) {
  const { db, services, hostId } = o;
  if (services.fleet.localAgent(hostId)) throw new AppError("PRECONDITION_FAILED", "Remove this machine as a host instead; the gateway stops its agent.");
  await exclusively(hostId, async () => {
    await uninstallAgent(await installDeps(o), { removeData: o.removeData });
    await db.host.update({ where: { id: hostId }, data: { agentVersion: null } });
    await services.fleet.sync(hostId);
  });
}

export const updateHostInputSchema = z.object({
  name: addHostInputSchema.shape.name.optional(),
  hostGroupId: z.string().min(1).max(64).nullish(),
  labels: z.array(z.string().trim().min(1).max(60)).max(20).optional(),
  /** New credentials (the old ones are never shown, only replaced). */
  auth: sshAuthSchema.optional(),
});

/**
 * Renames, regroups, relabels, or replaces the credentials of a host; the
 * connection restarts with them. Moving a host into another group takes
 * hosts.manage everywhere: a group-scoped admin can't give hosts away.
 */
export async function updateHost(o: {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
  host: { id: string; hostGroupId: string | null };
  input: z.infer<typeof updateHostInputSchema>;
}): Promise<HostView> {
  const { db, input } = o;
  const hostId = o.host.id;
  if (input.hostGroupId !== undefined && input.hostGroupId !== o.host.hostGroupId) requireGlobal(o.viewer, "hosts.manage", "Moving a host between groups");
  const services = await o.fleet();
  const host = await db.host.findUnique({ where: { id: hostId } });
  if (!host) throw new AppError("NOT_FOUND", "No such host.");
  if (input.auth && host.transport === "local") throw new AppError("BAD_REQUEST", "This machine has no SSH credentials.");
  if (input.hostGroupId && !(await db.hostGroup.findUnique({ where: { id: input.hostGroupId } }))) {
    throw new AppError("BAD_REQUEST", "That host group does not exist.");
  }
  await uniqueName(input.name ?? host.name, () =>
    db.host.update({
      where: { id: hostId },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.hostGroupId !== undefined ? { hostGroupId: input.hostGroupId } : {}),
        ...(input.labels !== undefined ? { labels: input.labels } : {}),
        ...(input.auth ? { authMethod: input.auth.method, credential: sealCredential(services.box, input.auth), status: "pending" as const, statusMessage: null } : {}),
      },
    }),
  );
  if (input.auth) await services.fleet.sync(hostId);
  return getHostView({ db, services, hostId });
}
