import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSignature, generateWebhookSecret, hashWebhookSecret, isWebhookSecret, signBody, webhookDisplayPrefix } from "../../../server/webhooks/secret";

// Webhook secrets and the HMAC signature of signed callbacks.

describe("webhook secrets", () => {
  it("are bwh_ + 32 random bytes in base64url, hashed for the lookup, shown by a short prefix", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^bwh_[A-Za-z0-9_-]{43}$/);
    expect(isWebhookSecret(secret)).toBe(true);
    expect(generateWebhookSecret()).not.toBe(secret);
    expect(hashWebhookSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(webhookDisplayPrefix(secret)).toBe(secret.slice(0, 10));
    expect(isWebhookSecret("bwh_short")).toBe(false);
    expect(isWebhookSecret(`berth_${"a".repeat(40)}`)).toBe(false);
    expect(isWebhookSecret(`${secret}/x`)).toBe(false);
  });
});

describe("checkSignature", () => {
  const key = generateWebhookSecret();
  const body = Buffer.from('{"events":[]}');
  const hex = createHmac("sha256", key).update(body).digest("hex");

  it("accepts sha256=<hex HMAC of the raw body> (either case), as signBody makes it", () => {
    expect(signBody(key, body)).toBe(`sha256=${hex}`);
    expect(checkSignature(key, body, `sha256=${hex}`)).toEqual({ ok: true });
    expect(checkSignature(key, body, `sha256=${hex.toUpperCase()}`)).toEqual({ ok: true });
  });

  it("refuses a missing, malformed or mismatched signature, and one over a tampered body", () => {
    expect(checkSignature(key, body, null)).toEqual({ ok: false, reason: "missing" });
    expect(checkSignature(key, body, hex)).toEqual({ ok: false, reason: "malformed" });
    expect(checkSignature(key, body, `sha1=${hex.slice(0, 40)}`)).toEqual({ ok: false, reason: "malformed" });
    expect(checkSignature(key, body, `sha256=${hex.slice(0, 63)}`)).toEqual({ ok: false, reason: "malformed" });
    expect(checkSignature(key, Buffer.from('{"events":[] }'), `sha256=${hex}`)).toEqual({ ok: false, reason: "mismatch" });
    expect(checkSignature(generateWebhookSecret(), body, `sha256=${hex}`)).toEqual({ ok: false, reason: "mismatch" });
  });
});
