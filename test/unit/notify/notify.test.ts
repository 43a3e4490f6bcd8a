import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nextRetryDelayMs, RETRY_SECONDS } from "../../../server/notify/backoff";
import { auditableInput, mergeSettings, openSecrets, sealSecrets, settingsOf, storedForm } from "../../../server/notify/config";
import { renderEmail, renderSlack, renderWebhook, type Message } from "../../../server/notify/render";
import { retryableStatus, smtpFailure } from "../../../server/notify/send";
import { generateSigningKey, signPayload, verifySignature } from "../../../server/notify/sign";
import { SecretBox } from "../../../server/secrets/cipher";

const at = new Date("2026-12-07T04:00:00.000Z");
const message = (over: Partial<Message> = {}): Message => ({
  notificationId: "n1",
  kind: "firing",
  alert: {
    id: "a1",
    ruleId: "r1",
    rule: "Container killed by OOM",
    kind: "containerOom",
    severity: "warning",
    summary: "web-1 on db-1 was killed by the OOM killer",
    host: { id: "h1", name: "db-1" },
    container: { id: "c1", name: "web-1" },
    startsAt: at,
    firedAt: at,
    resolvedAt: null,
    url: "https://berth.example/alerts/a1",
  },
  ...over,
});

describe("backoff schedule", () => {
  it("waits 5 s, 30 s, 2 min, 10 min, 30 min (without jitter at random 0.5), then gives up", () => {
    expect([1, 2, 3, 4, 5].map((n) => nextRetryDelayMs(n, RETRY_SECONDS, () => 0.5))).toEqual([5_000, 30_000, 120_000, 600_000, 1_800_000]);
    expect(nextRetryDelayMs(6, RETRY_SECONDS, () => 0.5)).toBeNull();
    expect(nextRetryDelayMs(0)).toBeNull();
  });
  it("jitters by at most 20 %", () => {
    expect(nextRetryDelayMs(1, RETRY_SECONDS, () => 0)).toBe(4_000);
    expect(nextRetryDelayMs(1, RETRY_SECONDS, () => 0.999999)).toBe(6_000);
  });
  it("retries 5xx, 408 and 429 only", () => {
    expect([500, 502, 503, 408, 429].every(retryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 422].some(retryableStatus)).toBe(false);
  });
});

describe("signature", () => {
  it("is sha256=<hex HMAC of '<timestamp>.<body>'>", () => {
    const key = "bns_key";
    const expected = createHmac("sha256", key).update('1700000000.{"a":1}').digest("hex");
    expect(signPayload(key, 1_700_000_000, '{"a":1}')).toBe(`sha256=${expected}`);
  });
  it("verifies, and refuses another body, key, timestamp, or an old timestamp (a replay)", () => {
    const key = generateSigningKey();
    expect(key).toMatch(/^bns_[A-Za-z0-9_-]{43}$/);
    const sig = signPayload(key, 1_700_000_000, "body");
    const h = { signature: sig, timestamp: "1700000000" };
    expect(verifySignature(key, h, "body", { nowSeconds: 1_700_000_010 })).toBe(true);
    expect(verifySignature(key, h, "body!", { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(verifySignature(generateSigningKey(), h, "body", { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(verifySignature(key, { ...h, timestamp: "1700000001" }, "body", { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(verifySignature(key, h, "body", { nowSeconds: 1_700_000_000 + 301 })).toBe(false);
    expect(verifySignature(key, { signature: undefined, timestamp: "1700000000" }, "body", { nowSeconds: 1_700_000_000 })).toBe(false);
  });
});

describe("rendering", () => {
  it("webhook JSON carries status, kind and the alert", () => {
    const body = renderWebhook(message());
    expect(body).toEqual({
      version: 1,
      status: "firing",
      kind: "firing",
      notificationId: "n1",
      alert: {
        id: "a1",
        ruleId: "r1",
        rule: "Container killed by OOM",
        kind: "containerOom",
        severity: "warning",
        summary: "web-1 on db-1 was killed by the OOM killer",
        host: { id: "h1", name: "db-1" },
        container: { id: "c1", name: "web-1" },
        startsAt: "2026-12-07T04:00:00.000Z",
        firedAt: "2026-12-07T04:00:00.000Z",
        resolvedAt: null,
        url: "https://berth.example/alerts/a1",
      },
    });
    expect(renderWebhook(message({ kind: "repeat" })).status).toBe("firing");
    expect(renderWebhook(message({ kind: "resolved" })).status).toBe("resolved");
  });
  it("Slack: text for notifications, blocks with the link, mrkdwn escaped", () => {
    const s = renderSlack(message({ alert: { ...message().alert, summary: "<@channel> & co" } }));
    expect(s.text).toBe("[FIRING] warning <@channel> & co");
    const section = (s.blocks[0] as { text: { text: string } }).text.text;
    expect(section).toContain("&lt;@channel&gt; &amp; co");
    expect(section).not.toContain("<@channel>");
    expect(section).toContain("<https://berth.example/alerts/a1|Open in Berth>");
    expect(renderSlack(message({ kind: "resolved" })).text).toMatch(/^\[RESOLVED\] warning /);
  });
  it("email: [FIRING|RESOLVED] <severity> <summary>, text and escaped HTML with the link", () => {
    const m = renderEmail(message({ alert: { ...message().alert, summary: "a <b>bold</b>\r\nBcc: x@y" } }));
    expect(m.subject).toBe("[FIRING] warning a <b>bold</b> Bcc: x@y");
    expect(m.text).toContain("Open in Berth: https://berth.example/alerts/a1");
    expect(m.text).toContain("Container: web-1");
    expect(m.html).toContain("a &lt;b&gt;bold&lt;/b&gt;");
    expect(m.html).toContain('<a href="https://berth.example/alerts/a1">');
    expect(renderEmail(message({ kind: "resolved", alert: { ...message().alert, resolvedAt: at } })).subject).toBe("[RESOLVED] warning web-1 on db-1 was killed by the OOM killer");
  });
});

describe("channel settings", () => {
  const box = new SecretBox(randomBytes(32));
  const gen = () => "bns_generated";

  it("a new webhook without a secret gets a generated one; the URL's query stays sealed", () => {
    const { settings, generatedKey } = mergeSettings({ kind: "webhook", url: "https://h.example/x?token=abc" }, null, gen);
    expect(generatedKey).toBe("bns_generated");
    const stored = storedForm(settings);
    expect(stored.config).toEqual({ url: "https://h.example/x", hasSecret: true });
    const row = { kind: "webhook", config: stored.config, secret: sealSecrets(box, stored.secrets) };
    expect(row.secret).not.toContain("abc");
    expect(settingsOf(box, row)).toEqual({ kind: "webhook", url: "https://h.example/x?token=abc", key: "bns_generated" });
  });
  it("an update keeps omitted secrets of the same kind, not of another kind", () => {
    const saved = { kind: "slack", settings: { kind: "slack" as const, url: "https://hooks.example/T/B/secret" } };
    expect(mergeSettings({ kind: "slack" }, saved, gen).settings).toEqual(saved.settings);
    expect(() => mergeSettings({ kind: "slack" }, { kind: "webhook", settings: { kind: "webhook", url: "https://x.example", key: "k" } }, gen)).toThrow(/Slack incoming-webhook URL/);
    const email = { kind: "email" as const, host: "smtp.example", port: 587, security: "starttls" as const, username: "u", from: "a@example.test", to: ["b@example.test"] };
    const first = mergeSettings({ ...email, password: "pw" }, null, gen).settings;
    expect(mergeSettings(email, { kind: "email", settings: first }, gen).settings).toMatchObject({ password: "pw" });
    // Another user name needs its own password.
    expect(() => mergeSettings({ ...email, username: "other" }, { kind: "email", settings: first }, gen)).toThrow(/Enter the SMTP password for other/);
    // A password is never sent in the clear to another machine.
    expect(() => mergeSettings({ ...email, security: "none", password: "pw" }, null, gen)).toThrow(/password in the clear: use starttls or tls/);
    expect(mergeSettings({ ...email, host: "127.0.0.1", security: "none", password: "pw" }, null, gen).settings).toMatchObject({ security: "none", username: "u" });
  });
  it("refuses URLs that aren't http(s), or carry a login", () => {
    expect(() => mergeSettings({ kind: "webhook", url: "nope" }, null, gen)).toThrow(/not a valid URL/);
    expect(() => mergeSettings({ kind: "webhook", url: "file:///etc/passwd" }, null, gen)).toThrow(/must start with http:\/\/ or https:\/\/ \(not file\)/);
    expect(() => mergeSettings({ kind: "webhook", url: "https://u:p@h.example/" }, null, gen)).toThrow(/must not contain a user name or password/);
  });
  it("seals nothing when there is no secret, and opens what it sealed", () => {
    expect(sealSecrets(box, {})).toBeNull();
    expect(openSecrets(box, sealSecrets(box, { password: "p" }))).toEqual({ password: "p" });
  });
  it("audit params lose secrets and URL paths", () => {
    expect(auditableInput({ name: "n", config: { kind: "slack", url: "https://hooks.example/T/B/secret" } })).toEqual({ name: "n", config: { kind: "slack", url: "https://hooks.example" } });
    expect(auditableInput({ config: { kind: "email", password: "p", ca: "pem" } })).toEqual({ config: { kind: "email", password: "[redacted]", ca: "[redacted]" } });
  });
  it("SMTP failures read as what to do, and only 5xx is permanent", () => {
    const s = { host: "smtp.example", port: 587, username: "u", security: "starttls" };
    expect(smtpFailure(s, Object.assign(new Error("Invalid login: 535 nope"), { code: "EAUTH", responseCode: 535, response: "535 nope" }))).toEqual({
      ok: false,
      error: "The SMTP server smtp.example:587 refused the login of u: 535 nope",
      permanent: true,
    });
    expect(smtpFailure(s, Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:587"), { code: "ESOCKET" }))).toMatchObject({ error: "Can't connect to the SMTP server smtp.example:587: connection refused.", permanent: false });
    expect(smtpFailure(s, Object.assign(new Error("Try later"), { code: "EENVELOPE", responseCode: 451, response: "451 busy" }))).toMatchObject({ permanent: false });
  });
});
