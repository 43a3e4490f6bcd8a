import "server-only";
import { createHash } from "node:crypto";

/** A host key's fingerprint as `ssh-keygen -l` prints it: SHA256 of the key blob, unpadded base64. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;
