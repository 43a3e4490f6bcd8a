import "server-only";
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);

/** JSON with object keys sorted at every level: one encoding for one value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) return "null";
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The fields an event's hash covers, in the form they are stored. */
export interface HashedFields {
  id: bigint;
  createdAt: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  hostId: string | null;
  params: unknown;
  outcome: string;
  errorMessage: string | null;
  requestId: string | null;
  prevHash: string;
}

export function hashEvent(e: HashedFields): string {
  const encoded = canonicalJson({
    v: 1,
    id: e.id.toString(),
    createdAt: e.createdAt.toISOString(),
    actorType: e.actorType,
    actorId: e.actorId,
    actorLabel: e.actorLabel,
    sourceIp: e.sourceIp,
    userAgent: e.userAgent,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    hostId: e.hostId,
    params: e.params,
    outcome: e.outcome,
    errorMessage: e.errorMessage,
    requestId: e.requestId,
    prevHash: e.prevHash,
  });
  return createHash("sha256").update(encoded).digest("hex");
}
