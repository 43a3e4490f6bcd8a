import "server-only";
import { z } from "zod";
import { MAX_SOURCE_BLOCKS } from "./rules";

// The inputs of webhook management, shared by the tRPC router and the REST
// endpoints (whose OpenAPI document is generated from them).

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not an id");

export const webhookTargetInput = z.union([
  z.strictObject({ deploymentId: id.describe("The deployment whose webhooks to list.") }),
  z.strictObject({ stackId: id.describe("The stack whose webhooks to list.") }),
]);

export const createWebhookInput = z.object({
  deploymentId: id.optional().describe("The deployment the webhook deploys (or stackId)."),
  stackId: id.optional().describe("The stack the webhook deploys (or deploymentId)."),
  name: z.string().min(1).max(100).describe("Shown in lists and named in the audit log as the actor."),
  tagPattern: z.string().min(1).max(128).nullable().default(null).describe('A glob on the tag a call may deploy ("v*", "main-?"); null: any tag.'),
  sourceCidrs: z
    .array(z.string().min(1).max(64))
    .max(MAX_SOURCE_BLOCKS)
    .default([])
    .describe("Addresses or CIDR blocks (IPv4 or IPv6) calls may come from; empty: anywhere."),
  expiresInDays: z.number().int().min(1).max(3650).nullable().default(null).describe("Stops working after this many days; null: never."),
  preApproved: z.boolean().default(false).describe("Its rollouts skip approval (only for a creator holding deploys.approve on the host)."),
});

export const revokeWebhookInput = z.object({ id });
