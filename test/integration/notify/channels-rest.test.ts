import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { OpenApiClient } from "../../fixtures/openapi-client";
import { verifySignature } from "../../../server/notify/sign";
import { startWebhookReceiver, type WebhookReceiver } from "./receivers";

// The channel endpoints of /api/v1 against the real gateway (built Next app,
// real Postgres, its own delivery worker): answers fit the OpenAPI document,
// a created webhook channel's secret is answered once and signs what the
// gateway sends, secrets never come back, and a token without alerts.manage
// (or no token) is refused.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const SLACK_SECRET = "/services/T1/B1/restSlackSecret77";

interface ChannelBody {
  id: string;
  name: string;
  hasSecret: boolean;
  generatedSecret?: string | null;
  config: Record<string, unknown>;
  lastError: string | null;
}

describe("REST API v1: notification channels (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let api: OpenApiClient;
  let reader: OpenApiClient;
  let hook: WebhookReceiver;
  const texts: string[] = [];

  beforeAll(async () => {
    hook = await startWebhookReceiver();
    database = await createTestDatabase("apiv1chan");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const full = await owner.trpc<{ secret: string }>("tokens.create", { name: "everything" });
    api = await OpenApiClient.load(gateway.url, full.data!.secret);
    const limited = await owner.trpc<{ secret: string }>("tokens.create", { name: "read only", permissions: ["hosts.read", "alerts.read"] });
    expect(limited.error, JSON.stringify(limited.error)).toBeUndefined();
    reader = api.withToken(limited.data!.secret);
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
    await hook?.close();
  });

  it("creates a webhook channel, test-sends a signed message, lists deliveries; fits the document", async () => {
    const created = await api.call<ChannelBody>("createChannel", { body: { name: "rest hook", config: { kind: "webhook", url: hook.url("/rest?k=v") } } });
    texts.push(created.text);
    expect(created.status, created.text).toBe(201);
    expect(created.schemaErrors).toEqual([]);
    expect(created.body).toMatchObject({ name: "rest hook", hasSecret: true, config: { url: hook.url("/rest") } });
    const secret = created.body.generatedSecret!;
    expect(secret).toMatch(/^bns_/);

    const test = await api.call<{ ok: boolean; error: string | null }>("testChannel", { path: { channelId: created.body.id } });
    expect(test.status).toBe(200);
    expect(test.schemaErrors).toEqual([]);
    expect(test.body).toEqual({ ok: true, error: null });
    const req = hook.received.at(-1)!;
    expect(req.path).toBe("/rest?k=v");
    expect(verifySignature(secret, { signature: req.headers["x-berth-signature-256"] as string, timestamp: req.headers["x-berth-timestamp"] as string }, req.body)).toBe(true);
    expect(JSON.parse(req.body)).toMatchObject({ version: 1, status: "firing", kind: "test", alert: { severity: "info", url: `${new URL(gateway.url).origin}/alerts` } });

    const deliveries = await api.call<{ kind: string; status: string }[]>("listChannelDeliveries", { path: { channelId: created.body.id } });
    texts.push(deliveries.text);
    expect(deliveries.schemaErrors).toEqual([]);
    expect(deliveries.body).toMatchObject([{ kind: "test", status: "sent" }]);

    const updated = await api.call<ChannelBody>("updateChannel", { path: { channelId: created.body.id }, body: { enabled: false } });
    texts.push(updated.text);
    expect(updated.status).toBe(200);
    expect(updated.schemaErrors).toEqual([]);
    const list = await api.call<ChannelBody[]>("listChannels");
    texts.push(list.text);
    expect(list.schemaErrors).toEqual([]);
    expect(list.body.map((c) => [c.name, c.hasSecret])).toEqual([["rest hook", true]]);
    const audit = await database.db.auditEvent.findFirst({ where: { action: "api.v1.channels.create" }, orderBy: { id: "desc" } });
    expect(audit).toMatchObject({ outcome: "success", targetType: "alertChannel", targetId: created.body.id });

    expect((await api.call("removeChannel", { path: { channelId: created.body.id } })).status).toBe(200);
    expect((await api.call<ChannelBody[]>("listChannels")).body).toEqual([]);
    // Only the creation answer held the secret.
    expect(texts.filter((t) => t.includes(secret))).toHaveLength(1);
    expect(texts.join("\n")).not.toContain("k=v");
  });

  it("a bad configuration is a 400 with the reason and nothing is saved; secrets never come back", async () => {
    const bad = await api.call<{ error: { message: string } }>("createChannel", { body: { name: "bad", config: { kind: "webhook", url: "gopher://127.0.0.1/" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/must start with http:\/\/ or https:\/\//);
    const mail = await api.call<{ error: { message: string } }>("createChannel", {
      body: { name: "mail", config: { kind: "email", host: "127.0.0.1", port: 1, security: "none", from: "b@example.test", to: ["o@example.test"] } },
    });
    expect(mail.status).toBe(400);
    expect(mail.body.error.message).toMatch(/Can't connect to the SMTP server 127.0.0.1:1: connection refused/);
    expect((await api.call<ChannelBody[]>("listChannels")).body).toEqual([]);

    const slack = await api.call<ChannelBody>("createChannel", { body: { name: "slack", config: { kind: "slack", url: hook.url(SLACK_SECRET) } } });
    expect(slack.status).toBe(201);
    const answers = [slack.text, (await api.call("listChannels")).text, (await api.call("updateChannel", { path: { channelId: slack.body.id }, body: { name: "slack 2", config: { kind: "slack" } } })).text];
    for (const a of answers) expect(a).not.toContain("restSlackSecret77");
    expect((await api.call<{ ok: boolean }>("testChannel", { path: { channelId: slack.body.id } })).body.ok).toBe(true);
    expect(hook.received.at(-1)!.path).toBe(SLACK_SECRET);
  });

  it("refuses a token without alerts.manage, and no token", async () => {
    const denied = await reader.call("listChannels");
    expect(denied.status).toBe(403);
    const create = await reader.call("createChannel", { body: { name: "x", config: { kind: "webhook", url: hook.url() } } });
    expect(create.status).toBe(403);
    expect((await api.withToken(null).call("listChannels")).status).toBe(401);
    const audit = await database.db.auditEvent.findMany({ where: { action: "api.v1.channels.create", outcome: "denied" } });
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });
});
