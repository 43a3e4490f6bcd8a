import "server-only";
import { createHash, randomBytes } from "node:crypto";

// API token secrets: `berth_` + 40 base62 characters (about 238 bits). Only
// the SHA-256 of the whole string is stored; a lookup is by that hash alone,
// so no comparison of secrets ever happens in this process.

export const TOKEN_PREFIX = "berth_";
export const TOKEN_BODY_LENGTH = 40;
/** How much of the secret lists show ("berth_" + 6 characters): enough to tell tokens apart, useless to guess the rest. */
export const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${TOKEN_BODY_LENGTH}}$`);

/** A fresh secret. Bytes ≥ 248 are dropped so every character is equally likely (no modulo bias). */
export function generateTokenSecret(random: (size: number) => Buffer = randomBytes): string {
  let body = "";
  while (body.length < TOKEN_BODY_LENGTH) {
    for (const byte of random(64)) {
      if (byte >= 248) continue;
      body += BASE62[byte % 62];
      if (body.length === TOKEN_BODY_LENGTH) break;
    }
  }
  return TOKEN_PREFIX + body;
}

export function isTokenSecret(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export function hashTokenSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}

/**
 * The token in an `Authorization: Bearer …` header, or null when the header
 * is missing, uses another scheme, or holds something that can't be a token
 * (so malformed values never reach the database).
 */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  if (!match) return null;
  return isTokenSecret(match[1]!) ? match[1]! : null;
}
