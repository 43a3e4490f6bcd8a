import "server-only";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import path from "node:path";
import { readOrCreateKeyFile } from "./key-file";

// Secrets at rest (host credentials, later registry passwords) are sealed with
// AES-256-GCM. The sealed form names its version so the format can change:
//   v1.<iv>.<tag>.<ciphertext>   (base64url parts)
// The purpose string is bound as associated data, so a credential sealed for
// one use can't be replayed as another.

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A 32-byte key from 64 hex characters or base64(url); null if it is neither. */
export function decodeSecretKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === KEY_BYTES) return bytes;
  }
  return null;
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`secret key must be ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
  }

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
  }

  /** Throws if the value was tampered with, sealed under another key, or for another purpose. */
  open(sealed: string, purpose: string): string {
    const parts = sealed.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error("not a sealed secret");
    const [iv, tag, body] = parts.slice(1).map((p) => Buffer.from(p, "base64url"));
    try {
      // A pinned tag length: GCM would otherwise accept a truncated (down to 4-byte) tag.
      const decipher = createDecipheriv("aes-256-gcm", this.#key, iv!, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(tag!);
      return Buffer.concat([decipher.update(body!), decipher.final()]).toString("utf8");
    } catch {
      throw new Error("sealed secret does not open with this key (was BERTH_SECRET_KEY changed?)");
    }
  }
}

/**
 * The gateway's box: BERTH_SECRET_KEY when set, else a key generated once in
 * <data dir>/secret.key (mode 0600).
 */
export async function loadSecretBox(configured: string | undefined, dataDir: string): Promise<SecretBox> {
  if (configured) {
    const key = decodeSecretKey(configured);
    if (!key) throw new Error("BERTH_SECRET_KEY must be 32 bytes as 64 hex characters or base64");
    return new SecretBox(key);
  }
  const text = await readOrCreateKeyFile(path.join(dataDir, "secret.key"), KEY_BYTES);
  const key = decodeSecretKey(text);
  if (!key) throw new Error(`${path.join(dataDir, "secret.key")} does not hold a 32-byte key`);
  return new SecretBox(key);
}
