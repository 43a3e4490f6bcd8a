import "server-only";
import { z } from "zod";
import { createWebhookInput } from "../webhooks/schemas";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { idParam, okBody } from "./schemas";

// The /api/v1 endpoints of deploy webhooks (spread into ENDPOINTS in
// endpoints.ts, so they are in the OpenAPI document and the reference page).
// Calling a webhook is not here: POST /api/hooks/<secret> is authenticated by
// its secret, not a token (see the README, "Deploy webhooks").

const none = z.strictObject({});
const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });

function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

export const webhookBody = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("The secret's first characters, to tell webhooks apart."),
    target: z.object({ kind: z.enum(["deployment", "stack"]), id: z.string() }),
    tagPattern: z.string().nullable(),
    sourceCidrs: z.array(z.string()),
    preApproved: z.boolean(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    lastUsedIp: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
  })
  .meta({ id: "Webhook" });

export const webhookCreatedBody = z
  .object({
    webhook: webhookBody,
    secret: z.string().describe("Shown once: Berth keeps only its hash and a sealed copy for signature checks."),
    url: z.string().describe("POST here to deploy (the secret is in it)."),
    statusUrlTemplate: z.string().describe("GET with {rolloutId} replaced to follow a rollout a call started."),
    signatureHeader: z.string().describe("Signed callbacks carry this header: sha256=<hex HMAC-SHA256 of the raw body with the secret>."),
    signedUrl: z.string().describe("Signed callbacks (a registry notification envelope) go here: no secret in the URL."),
  })
  .meta({ id: "WebhookCreated" });

const webhooksQuery = z.strictObject({
  deploymentId: idParam.optional().describe("The deployment whose webhooks to list."),
  stackId: idParam.optional().describe("The stack whose webhooks to list."),
});

export const WEBHOOK_ENDPOINTS = {
  listWebhooks: endpoint({
    id: "listWebhooks",
    method: "GET",
    path: "/webhooks",
    resource: "Deployments",
    summary: "A deployment's or a stack's deploy webhooks (never their secrets)",
    description: "Give deploymentId or stackId. Needs containers.read (stacks.read) on the target's host.",
    permission: "containers.read",
    action: "api.v1.webhooks.list",
    mutation: false,
    params: none,
    query: webhooksQuery,
    answers: [json(200, "The webhooks, newest first.", z.array(webhookBody))],
    errors: [400, 403, 404],
    example: { query: "deploymentId=clx0deployment" },
  }),
  createWebhook: endpoint({
    id: "createWebhook",
    method: "POST",
    path: "/webhooks",
    resource: "Deployments",
    summary: "Create a deploy webhook for a deployment or a stack; the secret is answered once",
    description:
      "Needs containers.deploy (stacks.deploy) on the target's host, and deploys.approve there for preApproved. " +
      "Source addresses are validated (IPv4/IPv6, CIDR blocks without host bits). The webhook acts with its creator's rights as they are when it is called.",
    permission: "containers.deploy",
    action: "api.v1.webhooks.create",
    mutation: true,
    params: none,
    query: none,
    body: createWebhookInput.strict(),
    answers: [json(201, "Created: the secret and the URLs (shown only now).", webhookCreatedBody)],
    errors: [400, 403, 404],
    example: { body: { deploymentId: "clx0deployment", name: "ci", tagPattern: "v*", sourceCidrs: ["10.0.0.0/8"], expiresInDays: 90 } },
  }),
  revokeWebhook: endpoint({
    id: "revokeWebhook",
    method: "DELETE",
    path: "/webhooks/{webhookId}",
    resource: "Deployments",
    summary: "Revoke a deploy webhook: its calls are refused from now on",
    permission: "containers.deploy",
    action: "api.v1.webhooks.revoke",
    mutation: true,
    params: z.strictObject({ webhookId: idParam.describe("The webhook's id (GET /webhooks).") }),
    query: none,
    answers: [json(200, "Revoked.", okBody)],
    errors: [403, 404],
  }),
} as const;
