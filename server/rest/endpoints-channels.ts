import "server-only";
import { z } from "zod";
import { channelConfigInput } from "../notify/config";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { idParam, okBody } from "./schemas";

// /api/v1 endpoints of notification channels (server/notify), spread into
// ENDPOINTS. All need alerts.manage; secrets go in and never come back.

const none = z.strictObject({});
const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });
function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

const timestamp = z.string().describe("RFC 3339");

export const channelBody = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(["webhook", "slack", "email"]),
    config: z.record(z.string(), z.unknown()).describe("What may be shown: webhook {url: origin and path, no query}; slack {host}; email {host, port, security, username, from, to, hasCa}."),
    hasSecret: z.boolean().describe("Whether a secret is set (the webhook's signing secret, the Slack URL, the SMTP password). Secrets are never returned."),
    enabled: z.boolean(),
    lastDeliveryAt: timestamp.nullable(),
    lastError: z.string().nullable().describe("Why the last delivery or test-send failed (cleared by a success)."),
    failing: z.number().int().describe("Deliveries in the last 24 hours that failed and wait for a retry, or gave up."),
  })
  .meta({ id: "NotificationChannel" });

const channelCreatedBody = channelBody
  .extend({ generatedSecret: z.string().nullable().describe("A new webhook channel's generated signing secret: shown this once. Null when one was given.") })
  .meta({ id: "NotificationChannelCreated" });

export const deliveryBody = z
  .object({
    id: z.string(),
    alertId: z.string().nullable(),
    channelId: z.string(),
    channelName: z.string(),
    kind: z.enum(["firing", "repeat", "resolved", "test"]),
    status: z.enum(["pending", "sent", "failed", "dead"]).describe("failed: waiting for a retry at nextAttemptAt; dead: gave up."),
    attempts: z.number().int(),
    nextAttemptAt: timestamp,
    lastError: z.string().nullable(),
    sentAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: "NotificationDelivery" });

const channelName = z.string().trim().min(1).max(100);
const createChannelBody = z.strictObject({ name: channelName, enabled: z.boolean().default(true), config: channelConfigInput });
const updateChannelBody = z.strictObject({
  name: channelName.optional(),
  enabled: z.boolean().optional(),
  config: channelConfigInput.optional().describe("The whole configuration; secrets left out (secret, the Slack url, password) keep their saved value."),
});
const channelParams = z.strictObject({ channelId: idParam.describe("The channel's id (GET /channels).") });
const deliveriesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export const CHANNEL_ENDPOINTS = {
  listChannels: endpoint({
    id: "listChannels",
    method: "GET",
    path: "/channels",
    resource: "Alerts",
    summary: "Notification channels (webhook, Slack-compatible, email), without their secrets",
    permission: "alerts.manage",
    action: "api.v1.channels.list",
    mutation: false,
    params: none,
    query: none,
    answers: [json(200, "The channels by name.", z.array(channelBody))],
    errors: [403],
  }),
  createChannel: endpoint({
    id: "createChannel",
    method: "POST",
    path: "/channels",
    resource: "Alerts",
    summary: "Create a notification channel; its settings are checked first (an SMTP server is connected to and logged in to)",
    description:
      "A webhook channel without a secret gets a generated signing secret, answered once (generatedSecret). Messages are signed: " +
      "X-Berth-Timestamp (unix seconds) and X-Berth-Signature-256: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">. " +
      "A URL that isn't http(s), or an SMTP server that can't be reached, won't start TLS or refuses the login, is refused with the reason (400) and nothing is saved.",
    permission: "alerts.manage",
    action: "api.v1.channels.create",
    mutation: true,
    params: none,
    query: none,
    body: createChannelBody,
    answers: [json(201, "The channel (and a generated secret, once).", channelCreatedBody)],
    errors: [400, 403, 409],
    example: {
      body: { name: "on-call mail", config: { kind: "email", host: "smtp.example.com", port: 587, security: "starttls", username: "berth", password: "app-password", from: "berth@example.com", to: ["oncall@example.com"] } },
    },
  }),
  updateChannel: endpoint({
    id: "updateChannel",
    method: "PUT",
    path: "/channels/{channelId}",
    resource: "Alerts",
    summary: "Change a channel: its name, enabled, or its configuration (omitted secrets are kept)",
    permission: "alerts.manage",
    action: "api.v1.channels.update",
    mutation: true,
    params: channelParams,
    query: none,
    body: updateChannelBody,
    answers: [json(200, "The channel.", channelBody)],
    errors: [400, 403, 404, 409],
    example: { body: { enabled: false } },
  }),
  removeChannel: endpoint({
    id: "removeChannel",
    method: "DELETE",
    path: "/channels/{channelId}",
    resource: "Alerts",
    summary: "Remove a channel (rules stop naming it; its queued messages are dropped)",
    permission: "alerts.manage",
    action: "api.v1.channels.remove",
    mutation: true,
    params: channelParams,
    query: none,
    answers: [json(200, "Removed.", okBody)],
    errors: [403, 404],
  }),
  testChannel: endpoint({
    id: "testChannel",
    method: "POST",
    path: "/channels/{channelId}/test",
    resource: "Alerts",
    summary: "Send a test message now and answer how it went",
    permission: "alerts.manage",
    action: "api.v1.channels.test",
    mutation: true,
    params: channelParams,
    query: none,
    answers: [json(200, "ok, or ok:false with the error (the receiver's answer, a refused connection, a refused login…).", z.object({ ok: z.boolean(), error: z.string().nullable() }))],
    errors: [403, 404],
  }),
  listChannelDeliveries: endpoint({
    id: "listChannelDeliveries",
    method: "GET",
    path: "/channels/{channelId}/deliveries",
    resource: "Alerts",
    summary: "A channel's messages, newest first, with their attempts and errors",
    permission: "alerts.manage",
    action: "api.v1.channels.deliveries",
    mutation: false,
    params: channelParams,
    query: deliveriesQuery,
    answers: [json(200, "The deliveries.", z.array(deliveryBody))],
    errors: [400, 403],
  }),
};
