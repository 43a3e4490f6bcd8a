import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { kickNotifications, startNotifyWorker } from "../../../server/notify/worker";
import { verifySignature } from "../../../server/notify/sign";
import { closedPort, startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from "./receivers";

// Notification channels against real receivers on 127.0.0.1: a webhook
// receiver (node:http) and real SMTP servers (smtp-server; STARTTLS on a
// self-signed certificate with a login, and plain). Notifications are queued
// as the alert engine queues them (Alert + AlertNotification rows) and the
// delivery worker (short retry delays here) sends them.

const ORIGIN = "https://berth.example.test";
const SMTP_USER = "alerts@example.test";
const SMTP_PASS = "smtp-pass-8c1f0e";
const SLACK_PATH = "/services/T0000/B0000/slackSecretPart9f3e";

describe("notification channels", () => {
  let env: FleetEnv;
  let owner: Caller;
  let viewer: Caller;
  let hook: WebhookReceiver;
  let smtpTls: SmtpReceiver;
  let smtpPlain: SmtpReceiver;
  let stopWorker: () => Promise<void>;
  let ruleId: string;
  let hostId: string;
  // Every answer the API gave, to look for secrets in.
  const answers: unknown[] = [];
  const seen = <T>(v: T): T => {
    answers.push(v);
    return v;
  };

  beforeAll(async () => {
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    viewer = (await env.callerFor("Viewer")).caller;
    hook = await startWebhookReceiver();
    smtpTls = await startSmtpReceiver({ auth: { user: SMTP_USER, pass: SMTP_PASS } });
    smtpPlain = await startSmtpReceiver();
    const db = env.database.db;
    hostId = (await db.host.create({ data: { name: "db-1", address: "192.0.2.10" } })).id;
    ruleId = (await db.alertRule.create({ data: { name: "Host unreachable (test)", kind: "hostUnreachable", severity: "critical" } })).id;
    stopWorker = startNotifyWorker({ box: env.box }, { db, pollMs: 100, retrySeconds: [0.2, 0.2, 0.2, 0.2, 0.2], origin: ORIGIN, sendTimeoutMs: 5_000, log: () => {} });
  });

  afterAll(async () => {
    await stopWorker?.();
    await hook?.close();
    await smtpTls?.close();
    await smtpPlain?.close();
    await env?.close();
  });

  /** Queues a message about a (new) alert as the engine does, and wakes the worker. */
  const queue = async (channelId: string, kind: "firing" | "repeat" | "resolved" = "firing", alertId?: string) => {
    const db = env.database.db;
    const alert =
      alertId ??
      (
        await db.alert.create({
          data: { ruleId, subjectKey: `host:${hostId}:${Math.random()}`, hostId, status: "firing", severity: "critical", summary: "Host db-1 is unreachable", firedAt: new Date() },
        })
      ).id;
    if (kind === "resolved") await db.alert.update({ where: { id: alert }, data: { status: "resolved", resolvedAt: new Date() } });
    const n = await db.alertNotification.create({ data: { alertId: alert, channelId, kind } });
    kickNotifications();
    return { alertId: alert, notificationId: n.id };
  };
  const row = (id: string) => env.database.db.alertNotification.findUniqueOrThrow({ where: { id } });

  it("sends a signed JSON webhook that verifies with the channel's generated secret, and a resolved one", async () => {
    const created = seen(await owner.channels.create({ name: "ops hook", config: { kind: "webhook", url: hook.url("/hook?team=ops") } }));
    expect(created.generatedSecret).toMatch(/^bns_[A-Za-z0-9_-]{43}$/);
    expect(created.hasSecret).toBe(true);
    expect(created.config).toEqual({ url: hook.url("/hook") });
    const secret = created.generatedSecret!;

    const { alertId, notificationId } = await queue(created.id);
    await waitFor(async () => hook.received.length, (n) => n >= 1);
    const req = hook.received.at(-1)!;
    expect(req.path).toBe("/hook?team=ops");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(verifySignature(secret, { signature: req.headers["x-berth-signature-256"] as string, timestamp: req.headers["x-berth-timestamp"] as string }, req.body)).toBe(true);
    // A changed body or timestamp does not verify (a replay with a new timestamp can't be signed without the secret).
    expect(verifySignature(secret, { signature: req.headers["x-berth-signature-256"] as string, timestamp: String(Number(req.headers["x-berth-timestamp"]) + 1) }, req.body)).toBe(false);
    expect(verifySignature("bns_wrong-secret-wrong-secret-wrong", { signature: req.headers["x-berth-signature-256"] as string, timestamp: req.headers["x-berth-timestamp"] as string }, req.body)).toBe(false);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      version: 1,
      status: "firing",
      kind: "firing",
      notificationId,
      alert: { id: alertId, rule: "Host unreachable (test)", kind: "hostUnreachable", severity: "critical", summary: "Host db-1 is unreachable", host: { id: hostId, name: "db-1" }, container: null, url: `${ORIGIN}/alerts/${alertId}`, resolvedAt: null },
    });
    expect(typeof body.alert.startsAt).toBe("string");
    expect(typeof body.alert.firedAt).toBe("string");
    const sent = await waitFor(() => row(notificationId), (r) => r.status === "sent");
    expect(sent).toMatchObject({ status: "sent", attempts: 1 });

    const resolved = await queue(created.id, "resolved", alertId);
    await waitFor(async () => hook.received.length, (n) => n >= 2);
    const second = JSON.parse(hook.received.at(-1)!.body);
    expect(second).toMatchObject({ status: "resolved", kind: "resolved", notificationId: resolved.notificationId, alert: { id: alertId } });
    expect(second.alert.resolvedAt).not.toBeNull();
    await waitFor(() => row(resolved.notificationId), (r) => r.status === "sent");
    // The alert's timeline says the messages went out.
    const alert = await env.database.db.alert.findUniqueOrThrow({ where: { id: alertId } });
    expect((alert.timeline as { event: string; message: string }[]).filter((e) => e.event === "notified").map((e) => e.message)).toEqual([
      'Sent (firing) to channel "ops hook"',
      'Sent (resolved) to channel "ops hook"',
    ]);

    // An update without a secret keeps it: the next message still verifies with the first one.
    seen(await owner.channels.update({ id: created.id, name: "ops hook 2", config: { kind: "webhook", url: hook.url("/hook2") } }));
    await queue(created.id);
    await waitFor(async () => hook.received.length, (n) => n >= 3);
    const third = hook.received.at(-1)!;
    expect(third.path).toBe("/hook2");
    expect(verifySignature(secret, { signature: third.headers["x-berth-signature-256"] as string, timestamp: third.headers["x-berth-timestamp"] as string }, third.body)).toBe(true);
  });

  it("uses a given signing secret and never answers with it", async () => {
    const given = "my-own-signing-secret-4d2a";
    const created = seen(await owner.channels.create({ name: "given hook", config: { kind: "webhook", url: hook.url("/given"), secret: given } }));
    expect(created.generatedSecret).toBeNull();
    expect(created.hasSecret).toBe(true);
    const before = hook.received.length;
    await queue(created.id);
    await waitFor(async () => hook.received.length, (n) => n > before);
    const req = hook.received.at(-1)!;
    expect(verifySignature(given, { signature: req.headers["x-berth-signature-256"] as string, timestamp: req.headers["x-berth-timestamp"] as string }, req.body)).toBe(true);
  });

  it("retries a receiver that fails twice, then it gets it; the failures show in deliveries and on the channel", async () => {
    const created = seen(await owner.channels.create({ name: "flaky hook", config: { kind: "webhook", url: hook.url("/flaky") } }));
    const before = hook.received.length;
    hook.failNext([500, 503]);
    const { notificationId } = await queue(created.id);
    const done = await waitFor(() => row(notificationId), (r) => r.status === "sent");
    expect(done.status).toBe("sent");
    expect(done.attempts).toBe(3);
    const tries = hook.received.slice(before).filter((r) => r.path === "/flaky");
    expect(tries).toHaveLength(3);
    // The same message each time (receivers can drop duplicates by it).
    expect(new Set(tries.map((r) => r.headers["x-berth-delivery"]))).toEqual(new Set([notificationId]));
    const deliveries = seen(await owner.channels.deliveries({ channelId: created.id }));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ id: notificationId, channelName: "flaky hook", kind: "firing", status: "sent", attempts: 3 });
    expect(deliveries[0]!.lastError).toMatch(/answered HTTP 503: receiver says no \(503\)/);

    // A 404 is not retried: dead at once, and the channel shows it.
    hook.failNext([404]);
    const gone = await queue(created.id);
    const dead = await waitFor(() => row(gone.notificationId), (r) => r.status === "dead");
    expect(dead).toMatchObject({ status: "dead", attempts: 1 });
    expect(dead.lastError).toMatch(/HTTP 404/);
    const view = seen(await owner.channels.list()).find((c) => c.id === created.id)!;
    expect(view.failing).toBe(1);
    expect(view.lastError).toMatch(/HTTP 404/);

    // A receiver that never comes back: tried on the whole schedule (1 + 5 retries), then dead.
    hook.failNext([500, 500, 500, 500, 500, 500]);
    const down = await queue(created.id);
    const given = await waitFor(() => row(down.notificationId), (r) => r.status === "dead");
    expect(given).toMatchObject({ status: "dead", attempts: 6 });
    const alert = await env.database.db.alert.findUniqueOrThrow({ where: { id: down.alertId } });
    expect((alert.timeline as { event: string }[]).map((e) => e.event)).toContain("failed");
  });

  it("two gateways' workers on one database send each message exactly once", async () => {
    const created = seen(await owner.channels.create({ name: "shared hook", config: { kind: "webhook", url: hook.url("/shared") } }));
    // A second worker, as another gateway would run it (the first keeps running).
    const stopSecond = startNotifyWorker({ box: env.box }, { db: env.database.db, pollMs: 50, batch: 3, origin: ORIGIN, log: () => {} });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push((await queue(created.id)).notificationId);
      const sent = await waitFor(
        () => env.database.db.alertNotification.findMany({ where: { id: { in: ids } } }),
        (rows) => rows.every((r) => r.status === "sent"),
      );
      expect(sent.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ["sent", 1]));
      const got = hook.received.filter((r) => r.path === "/shared").map((r) => r.headers["x-berth-delivery"] as string);
      expect(got.sort()).toEqual([...ids].sort());
    } finally {
      await stopSecond();
    }
  });

  it("posts {text, blocks} to a Slack-compatible webhook, whose URL is never shown", async () => {
    const created = seen(await owner.channels.create({ name: "slack", config: { kind: "slack", url: hook.url(SLACK_PATH) } }));
    expect(created.config).toEqual({ host: new URL(hook.url()).host });
    expect(created.hasSecret).toBe(true);
    const before = hook.received.length;
    await queue(created.id);
    await waitFor(async () => hook.received.length, (n) => n > before);
    const req = hook.received.at(-1)!;
    expect(req.path).toBe(SLACK_PATH);
    const body = JSON.parse(req.body);
    expect(body.text).toBe("[FIRING] critical Host db-1 is unreachable");
    expect(body.blocks[0].text.text).toContain("Host db-1 is unreachable");
    expect(body.blocks[0].text.text).toContain(`<${ORIGIN}/alerts/`);
    // An update that leaves the URL out keeps it.
    seen(await owner.channels.update({ id: created.id, config: { kind: "slack" } }));
    expect(seen(await owner.channels.testSend({ id: created.id }))).toEqual({ ok: true, error: null });
    expect(hook.received.at(-1)!.path).toBe(SLACK_PATH);
  });

  it("emails over STARTTLS with a login (self-signed certificate as the channel's CA) and over plain SMTP", async () => {
    const tls = seen(
      await owner.channels.create({
        name: "mail tls",
        config: { kind: "email", host: "127.0.0.1", port: smtpTls.port, security: "starttls", username: SMTP_USER, password: SMTP_PASS, ca: smtpTls.cert!, from: "berth@example.test", to: ["oncall@example.test", "lead@example.test"] },
      }),
    );
    expect(tls.hasSecret).toBe(true);
    expect(tls.config).toMatchObject({ host: "127.0.0.1", port: smtpTls.port, security: "starttls", username: SMTP_USER, from: "berth@example.test", to: ["oncall@example.test", "lead@example.test"] });
    const { alertId } = await queue(tls.id);
    await waitFor(async () => smtpTls.mails.length, (n) => n >= 1);
    const mail = smtpTls.mails.at(-1)!;
    expect(mail.subject).toBe("[FIRING] critical Host db-1 is unreachable");
    expect(mail.to).toEqual(["oncall@example.test", "lead@example.test"]);
    expect(mail.from).toBe("berth@example.test");
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe(SMTP_USER);
    expect(mail.raw).toContain(`${ORIGIN}/alerts/${alertId}`);
    expect(mail.raw).toMatch(/Content-Type: text\/html/i);

    await queue(tls.id, "resolved", alertId);
    await waitFor(async () => smtpTls.mails.length, (n) => n >= 2);
    expect(smtpTls.mails.at(-1)!.subject).toBe("[RESOLVED] critical Host db-1 is unreachable");

    const plain = seen(await owner.channels.create({ name: "mail plain", config: { kind: "email", host: "127.0.0.1", port: smtpPlain.port, security: "none", from: "berth@example.test", to: ["ops@example.test"] } }));
    expect(plain.hasSecret).toBe(false);
    await queue(plain.id);
    await waitFor(async () => smtpPlain.mails.length, (n) => n >= 1);
    expect(smtpPlain.mails.at(-1)).toMatchObject({ subject: "[FIRING] critical Host db-1 is unreachable", to: ["ops@example.test"], secure: false });
    expect(seen(await owner.channels.testSend({ id: plain.id }))).toEqual({ ok: true, error: null });
    expect(smtpPlain.mails.at(-1)!.subject).toMatch(/^\[TEST\] info Test notification from Berth/);
  });

  it("refuses a bad channel on save with the reason, and test-send says what is wrong", async () => {
    const refused = async (config: Parameters<Caller["channels"]["create"]>[0]["config"]) => {
      const e = await owner.channels.create({ name: `bad ${Math.random()}`, config }).then(
        () => null,
        (err: Error & { code?: string }) => err,
      );
      expect(e).not.toBeNull();
      return e!;
    };
    expect((await refused({ kind: "webhook", url: "not a url" })).message).toMatch(/The webhook URL is not a valid URL/);
    expect((await refused({ kind: "webhook", url: "ftp://127.0.0.1/x" })).message).toMatch(/must start with http:\/\/ or https:\/\//);
    expect((await refused({ kind: "slack", url: "javascript:alert(1)" })).message).toMatch(/must start with http/);
    const port = await closedPort();
    expect((await refused({ kind: "email", host: "127.0.0.1", port, security: "none", from: "b@example.test", to: ["o@example.test"] })).message).toMatch(
      new RegExp(`Not saved: Can't connect to the SMTP server 127.0.0.1:${port}: connection refused`),
    );
    const base = { kind: "email" as const, host: "127.0.0.1", port: smtpTls.port, security: "starttls" as const, from: "b@example.test", to: ["o@example.test"] };
    expect((await refused({ ...base, username: SMTP_USER, password: "wrong-password", ca: smtpTls.cert! })).message).toMatch(/refused the login of alerts@example.test: 535/);
    // A self-signed certificate not given as the CA: refused, saying how to fix it.
    expect((await refused({ ...base, username: SMTP_USER, password: SMTP_PASS })).message).toMatch(/TLS with the SMTP server .* failed .*add it as the channel's CA/);
    // A user name without a password.
    expect((await refused({ ...base, username: SMTP_USER, ca: smtpTls.cert! })).message).toMatch(/Enter the SMTP password/);
    // Nothing was saved.
    expect((await owner.channels.list()).filter((c) => c.name.startsWith("bad "))).toEqual([]);

    // A receiver that isn't there: test-send says so, and it is among the deliveries.
    const nowhere = seen(await owner.channels.create({ name: "nowhere", config: { kind: "webhook", url: `http://127.0.0.1:${port}/hook` } }));
    const result = seen(await owner.channels.testSend({ id: nowhere.id }));
    expect(result.ok).toBe(false);
    expect(result.error).toBe(`The webhook at http://127.0.0.1:${port} could not be reached: connection refused.`);
    const d = seen(await owner.channels.deliveries({ channelId: nowhere.id }));
    expect(d[0]).toMatchObject({ kind: "test", status: "dead", lastError: result.error });

    // An SMTP server that went away after the channel was saved.
    const gone = await startSmtpReceiver();
    const mail = seen(await owner.channels.create({ name: "mail gone", config: { kind: "email", host: "127.0.0.1", port: gone.port, security: "none", from: "b@example.test", to: ["o@example.test"] } }));
    await gone.close();
    const answer = seen(await owner.channels.testSend({ id: mail.id }));
    expect(answer).toEqual({ ok: false, error: `Can't connect to the SMTP server 127.0.0.1:${gone.port}: connection refused.` });
    expect(seen(await owner.channels.list()).find((c) => c.id === mail.id)!.lastError).toBe(answer.error);
  });

  it("needs alerts.manage, and a denial is audited", async () => {
    await expect(viewer.channels.list()).rejects.toThrow(/alerts.manage/);
    await expect(viewer.channels.create({ name: "sneaky", config: { kind: "slack", url: hook.url("/services/sneaky-secret") } })).rejects.toThrow(/alerts.manage/);
    const denied = await env.database.db.auditEvent.findMany({ where: { action: { startsWith: "channels." }, outcome: "denied" } });
    expect(denied.map((e) => e.action).sort()).toEqual(["channels.create", "channels.list"]);
    expect(JSON.stringify(denied.map((e) => e.params))).not.toContain("sneaky-secret");
  });

  it("never answers with a secret, nor keeps one in the audit log", async () => {
    seen(await owner.channels.list());
    const text = JSON.stringify(answers);
    for (const secret of [SMTP_PASS, SLACK_PATH, "slackSecretPart9f3e", "my-own-signing-secret-4d2a", "team=ops", "BEGIN CERTIFICATE"]) expect(text).not.toContain(secret);
    // The generated secret is answered once, at creation, and nowhere else.
    const generated = (answers.find((a) => (a as { name?: string }).name === "ops hook") as { generatedSecret: string }).generatedSecret;
    expect(text.split(generated).length - 1).toBe(1);
    const audit = await env.database.db.auditEvent.findMany({ where: { action: { startsWith: "channels." } } });
    expect(audit.length).toBeGreaterThan(10);
    const kept = JSON.stringify(audit.map((e) => [e.params, e.errorMessage]));
    for (const secret of [SMTP_PASS, "slackSecretPart9f3e", "my-own-signing-secret-4d2a", "wrong-password", generated]) expect(kept).not.toContain(secret);
    // Each change is on record with its channel.
    expect(audit.filter((e) => e.action === "channels.testSend" && e.targetType === "alertChannel").length).toBeGreaterThanOrEqual(3);
  });
});
