import "server-only";
import type { HostSnapshot } from "../../fleet/fleet";
import { hostFactsSchema, type HostFacts } from "../../fleet/install/facts";

// What the console may see of a host. Built field by field: the credential
// never leaves the server.

/** What the console sees of a host's own columns, as stored. */
interface HostColumns {
  id: string;
  name: string;
  address: string;
  port: number;
  transport: "ssh" | "local";
  username: string;
  authMethod: string;
  hostGroupId: string | null;
  labels: string[];
  hostKeyFingerprint: string | null;
  agentVersion: string | null;
  status: string;
  statusMessage: string | null;
  lastSeenAt: Date | null;
}

export interface HostRowForView extends HostColumns {
  hostGroup?: { name: string } | null;
  presentedFingerprint: string | null;
  facts: unknown;
}

export interface HostView extends HostColumns {
  hostGroupName: string | null;
  /** Only while the host key changed: the key the host now presents. */
  presentedFingerprint: string | null;
  /** The installed agent differs from the gateway's bundle. */
  upgradeAvailable: boolean;
  facts: HostFacts | null;
  /** Live: whether what we show is the last known state rather than current. */
  stale: boolean;
  agent: HostSnapshot["agent"];
  containerCount: number | null;
  runningCount: number | null;
  /** Recent load and memory samples while connected (for sparklines). */
  samples: { at: Date; load: number; memory: number }[];
}

export const HOST_VIEW_SELECT = {
  id: true,
  name: true,
  address: true,
  port: true,
  transport: true,
  username: true,
  authMethod: true,
  hostGroupId: true,
  hostGroup: { select: { name: true } },
  labels: true,
  hostKeyFingerprint: true,
  presentedFingerprint: true,
  agentVersion: true,
  facts: true,
  status: true,
  statusMessage: true,
  lastSeenAt: true,
} as const;

export function hostView(row: HostRowForView, live: HostSnapshot | null, bundleSha256: string | null = null): HostView {
  const facts = hostFactsSchema.safeParse(row.facts);
  const state = live && live.state !== "pending" ? live.state : row.status;
  const containers = live?.containers ?? null;
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    port: row.port,
    transport: row.transport,
    username: row.username,
    authMethod: row.authMethod,
    hostGroupId: row.hostGroupId,
    hostGroupName: row.hostGroup?.name ?? null,
    labels: row.labels,
    hostKeyFingerprint: row.hostKeyFingerprint,
    presentedFingerprint: state === "hostKeyChanged" ? row.presentedFingerprint : null,
    agentVersion: live?.agentVersion ?? row.agentVersion,
    upgradeAvailable: Boolean(
      row.transport === "ssh" && bundleSha256 && facts.success && facts.data.agentSha256 && facts.data.agentSha256 !== bundleSha256,
    ),
    facts: facts.success ? facts.data : null,
    status: state === "connecting" ? "pending" : state,
    statusMessage: live?.message ?? row.statusMessage,
    lastSeenAt: row.lastSeenAt,
    stale: live ? live.stale : true,
    agent: live?.agent ?? "unknown",
    containerCount: containers ? containers.length : null,
    runningCount: containers ? containers.filter((c) => c.State === "running").length : null,
    samples: live?.samples ?? [],
  };
}
