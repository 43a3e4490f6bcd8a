import "server-only";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// A webhook's secret: "bwh_" + 32 random bytes in base64url (256 bits). The
// secret is the URL's last segment (POST /api/hooks/<secret>) and, for signed
// callbacks, the HMAC key. Stored twice: its SHA-256 (the lookup: no secret is
// ever compared in this process) and sealed by the secret box (to check HMACs).

export const WEBHOOK_SECRET_PREFIX = "bwh_";
const SECRET_BYTES = 32;
const SECRET_PATTERN = /^bwh_[A-Za-z0-9_-]{43}$/;
/** What lists show: "bwh_" + 6 characters. */
export const WEBHOOK_DISPLAY_PREFIX_LENGTH = WEBHOOK_SECRET_PREFIX.length + 6;
/** The header a signed callback carries. */
export const SIGNATURE_HEADER = "X-Berth-Signature-256";
/** The purpose the signing key is sealed for (SecretBox's additional data). */
export const SIGNING_KEY_PURPOSE = "webhook.signingKey";

export function generateWebhookSecret(random: (size: number) => Buffer = randomBytes): string {
  return WEBHOOK_SECRET_PREFIX + random(SECRET_BYTES).toString("base64url");
}

export function isWebhookSecret(value: string): boolean {
  return SECRET_PATTERN.test(value);
}

export function hashWebhookSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function webhookDisplayPrefix(secret: string): string {
  return secret.slice(0, WEBHOOK_DISPLAY_PREFIX_LENGTH);
}

/** "sha256=<hex>" of the body with the key, as a sender computes it. */
export function signBody(key: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: "missing" | "malformed" | "mismatch" };

/**
 * Whether `header` is "sha256=<64 hex>" and the HMAC-SHA256 of the raw body
 * with the key: compared in constant time (the length is fixed by then).
 */
export function checkSignature(key: string, body: Uint8Array, header: string | null | undefined): SignatureCheck {
  if (!header) return { ok: false, reason: "missing" };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return { ok: false, reason: "malformed" };
  const sent = Buffer.from(match[1]!.toLowerCase(), "hex");
  const expected = createHmac("sha256", key).update(body).digest();
  return timingSafeEqual(sent, expected) ? { ok: true } : { ok: false, reason: "mismatch" };
}
