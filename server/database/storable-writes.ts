import "server-only";
import { storableJson } from "../../lib/storable-text";

// Every write to a JSON column goes through storableJson (NUL dropped,
// unpaired surrogates replaced, keys too), so a value Postgres's jsonb would
// refuse can never fail a write after the action it records has run: a
// container created, then its Deployment row lost. The audit writer makes its
// record storable itself, before hashing; here it is already clean (the
// function is idempotent).

/**
 * The JSON fields of each model, by the client's model name. A test compares
 * this with schema.prisma, so a new Json field can't be left out.
 */
export const JSON_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Host: ["agentConfig", "facts"],
  DeployPolicy: ["rules"],
  Deployment: ["spec"],
  StackVersion: ["source", "model"],
  AuditEvent: ["params"],
  Rollout: ["digests", "specBefore", "specAfter", "specDiff", "verdict", "steps"],
  ImageWatch: ["window"],
  AlertRule: ["labelSelector", "params"],
  AlertChannel: ["config"],
  Alert: ["details", "timeline"],
  Silence: ["labelSelector"],
};

const WRITES = new Set(["create", "createMany", "createManyAndReturn", "update", "updateMany", "updateManyAndReturn", "upsert"]);

function cleanData(data: unknown, fields: readonly string[]): unknown {
  if (Array.isArray(data)) return data.map((d) => cleanData(d, fields));
  if (data === null || typeof data !== "object") return data;
  const out: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const f of fields) if (out[f] !== undefined) out[f] = storableJson(out[f]);
  return out;
}

/** The arguments of a model operation with its JSON values made storable. */
export function storableWriteArgs(model: string | undefined, operation: string, args: unknown): unknown {
  const fields = model ? JSON_FIELDS[model] : undefined;
  if (!fields || !WRITES.has(operation) || args === null || typeof args !== "object") return args;
  const a = { ...(args as Record<string, unknown>) };
  for (const key of ["data", "create", "update"]) if (a[key] !== undefined) a[key] = cleanData(a[key], fields);
  return a;
}
