import { createHash, type Hash } from "node:crypto";
import { ImageError } from "./errors";

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function assertDigest(digest: string): string {
  if (!SHA256.test(digest)) throw new ImageError("UNSUPPORTED", `unsupported or malformed digest "${digest}" (only sha256 is supported)`);
  return digest;
}

export const digestHex = (digest: string) => assertDigest(digest).slice("sha256:".length);

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export const newDigester = (): Hash => createHash("sha256");
export const digestOf = (h: Hash) => `sha256:${h.digest("hex")}`;

/** Docker's 12-character short id of a digest. */
export const shortId = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);
