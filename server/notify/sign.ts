import "server-only";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// A webhook channel's signature. The signed text is "<timestamp>.<body>", so a
// receiver that checks the timestamp is recent can reject a replayed request
// (the timestamp can't be changed without breaking the signature).
//
//   X-Berth-Timestamp:        unix seconds when the request was sent
//   X-Berth-Signature-256:    sha256=<hex HMAC-SHA256(key, timestamp + "." + body)>

export const SIGNATURE_HEADER = "X-Berth-Signature-256";
export const TIMESTAMP_HEADER = "X-Berth-Timestamp";
export const DELIVERY_HEADER = "X-Berth-Delivery";
/** A generated signing key: "bns_" + 32 random bytes, base64url (256 bits). */
export const SIGNING_KEY_PREFIX = "bns_";

export function generateSigningKey(random: (size: number) => Buffer = randomBytes): string {
  return SIGNING_KEY_PREFIX + random(32).toString("base64url");
}

export function signPayload(key: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a receiver does: recompute and compare in constant time; refuse a timestamp outside the tolerance. */
export function verifySignature(key: string, header: { signature: string | undefined; timestamp: string | undefined }, body: string, o: { nowSeconds?: number; toleranceSeconds?: number } = {}): boolean {
  if (!header.signature || !header.timestamp || !/^\d{1,12}$/.test(header.timestamp)) return false;
  const ts = Number(header.timestamp);
  const now = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (o.toleranceSeconds ?? 300)) return false;
  const want = Buffer.from(signPayload(key, ts, body));
  const got = Buffer.from(header.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
