import "server-only";
import { z } from "zod";
import { stackFileSchema, stackNameSchema, stackSourceSchema } from "../services/stacks/schemas";

// The stacks endpoints' request and answer schemas (see endpoints.ts).

export const stacksQuery = z.strictObject({
  hostId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional().describe("Only the stacks on this host."),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional().describe("nextCursor of the previous page."),
  limit: z.coerce.number().int().min(1).max(100).default(50).describe("Page size (1–100)."),
});

const fileBody = z.strictObject({ path: z.string(), content: z.string() });
const sourceBody = z.strictObject({
  files: z.array(z.strictObject(stackFileSchema.shape)).min(1, "give at least the compose file").max(20),
  composeFiles: stackSourceSchema.shape.composeFiles,
  profiles: stackSourceSchema.shape.profiles,
});

export const applyStackBody = z.strictObject({
  name: stackNameSchema.describe("The stack's name on the host (its compose project name unless the file sets `name:`)."),
  source: sourceBody.describe("The compose file(s), .env and env_files; secrets are Berth's (by name), never in the files."),
  override: z.boolean().default(false).describe("Override the deploy policy (only for who may: hosts.manage); audited with what was overridden."),
  removeOrphans: z.boolean().default(false).describe("Remove containers of services no longer in the files."),
});

export const downStackBody = z.strictObject({ volumes: z.boolean().default(false).describe("Remove the stack's named volumes too (their data is lost).") });
export const rollbackStackBody = z.strictObject({ version: z.number().int().min(1).describe("The earlier version to apply again (as a new version).") });

const serviceSummary = z.object({ name: z.string(), replicas: z.number(), running: z.number(), health: z.enum(["healthy", "unhealthy", "starting"]).nullable() });
export const stackSummaryBody = z.object({
  id: z.string(),
  name: z.string(),
  hostId: z.string(),
  hostName: z.string(),
  status: z.enum(["running", "partial", "stopped", "applying", "failed", "down"]),
  services: z.array(serviceSummary),
  version: z.number(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});
export const stacksBody = z.object({ items: z.array(stackSummaryBody), nextCursor: z.string().nullable() });
export const stackBody = stackSummaryBody.extend({
  source: z.object({ files: z.array(fileBody), composeFiles: z.array(z.string()).optional(), profiles: z.array(z.string()).optional() }),
  lastError: z.string().nullable(),
  services: z.array(
    serviceSummary.extend({
      image: z.string(),
      containers: z.array(z.object({ id: z.string(), name: z.string(), number: z.number(), state: z.string(), status: z.string(), health: z.string().nullable() })),
    }),
  ),
});
export const stackVersionsBody = z.object({
  items: z.array(
    z.object({
      version: z.number(),
      createdAt: z.string(),
      createdBy: z.string().nullable(),
      result: z.enum(["applied", "failed", "pending"]),
      error: z.string().nullable(),
      rollbackOf: z.number().nullable(),
    }),
  ),
});
export const stackDownBody = z.object({ removed: z.number() });
export const stackApplyLineBody = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), phase: z.string(), message: z.string(), service: z.string().optional(), layer: z.object({ id: z.string(), status: z.string(), current: z.number().optional(), total: z.number().optional() }).optional() }),
  z.object({
    type: z.literal("result"),
    ok: z.literal(true),
    stackId: z.string(),
    version: z.number(),
    result: z.enum(["applied", "failed", "awaitingApproval"]).describe("awaitingApproval: the host's group requires an approver; the rollout runs once approved."),
    error: z.string().nullable(),
    rolloutId: z.string().describe("The rollout on the stack's timeline (GET /rollouts/{rolloutId})."),
  }),
  z.object({ type: z.literal("result"), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
