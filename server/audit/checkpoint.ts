import "server-only";
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { decodeSecretKey } from "../secrets/cipher";
import { canonicalJson } from "./canonical";

// The audit chain anchored outside the database. The hash chain shows an event
// altered or removed in the middle, but not events cut off the end: the chain
// that remains is still a valid chain. A checkpoint is the head (id + hash)
// signed with an Ed25519 key that is never stored in Postgres (a key file in
// the data directory, or BERTH_AUDIT_CHECKPOINT_KEY). It is written to the
// data directory and, when configured, sent to a webhook; verify compares the
// chain with the last one.

export const CHECKPOINT_FILE = "audit-checkpoint.json";
export const CHECKPOINT_KEY_FILE = "audit-checkpoint.key";

export const checkpointSchema = z.object({
  v: z.literal(1),
  /** The head event's id (a decimal string: ids are bigints). */
  id: z.string().regex(/^\d+$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** When it was taken. */
  at: z.iso.datetime(),
  /** sha256 of the raw public key, first 16 hex digits: which key signed it. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 over canonicalJson of the other fields, base64. */
  signature: z.string().min(1),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export interface CheckpointKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The raw 32-byte public key, base64: what a webhook receiver pins. */
  publicKeyBase64: string;
  keyId: string;
}

// PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function keyFromSeed(seed: Buffer): CheckpointKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return { privateKey, publicKey, publicKeyBase64: raw.toString("base64"), keyId: createHash("sha256").update(raw).digest("hex").slice(0, 16) };
}

/**
 * The checkpoint key: BERTH_AUDIT_CHECKPOINT_KEY (a 32-byte seed, hex or
 * base64) if set, else the key file in the data directory, created (0600) on
 * first use when `create` is set. Null when there is none and none may be made.
 */
export async function loadCheckpointKey(dataDir: string, configured: string | undefined, options: { create: boolean }): Promise<CheckpointKey | null> {
  if (configured) {
    const seed = decodeSecretKey(configured);
    if (!seed) throw new Error("BERTH_AUDIT_CHECKPOINT_KEY must be 32 bytes as 64 hex characters or base64");
    return keyFromSeed(seed);
  }
  const file = path.join(dataDir, CHECKPOINT_KEY_FILE);
  if (existsSync(file)) {
    await chmod(file, 0o600);
    const seed = decodeSecretKey(await readFile(file, "utf8"));
    if (!seed) throw new Error(`${file} does not hold a 32-byte key`);
    return keyFromSeed(seed);
  }
  if (!options.create) return null;
  await mkdir(dataDir, { recursive: true });
  const seed = randomBytes(32);
  await writeFile(file, seed.toString("hex") + "\n", { mode: 0o600, flag: "wx" }).catch(async (e: NodeJS.ErrnoException) => {
    // Another process made it first: use theirs.
    if (e.code !== "EEXIST") throw e;
  });
  return loadCheckpointKey(dataDir, undefined, { create: false });
}

const signedPart = (c: Omit<Checkpoint, "signature">) => Buffer.from(canonicalJson({ v: c.v, id: c.id, hash: c.hash, at: c.at, keyId: c.keyId }));

export function signCheckpoint(key: CheckpointKey, head: { id: bigint; hash: string }, at = new Date()): Checkpoint {
  const body = { v: 1 as const, id: head.id.toString(), hash: head.hash, at: at.toISOString(), keyId: key.keyId };
  return { ...body, signature: sign(null, signedPart(body), key.privateKey).toString("base64") };
}

export function checkpointSignatureValid(publicKey: KeyObject, c: Checkpoint): boolean {
  try {
    return verify(null, signedPart(c), publicKey, Buffer.from(c.signature, "base64"));
  } catch {
    return false;
  }
}

/** Replaces the data directory's checkpoint atomically (write, fsync'd rename). */
export async function writeCheckpointFile(dataDir: string, c: Checkpoint): Promise<void> {
  const file = path.join(dataDir, CHECKPOINT_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(c, null, 2) + "\n", { mode: 0o600, flush: true });
  await rename(temp, file);
}

/** The data directory's checkpoint; null if there is none; throws if it is unreadable or malformed (fail closed). */
export async function readCheckpointFile(dataDir: string): Promise<Checkpoint | null> {
  const file = path.join(dataDir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  const parsed = checkpointSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
  if (!parsed.success) throw new Error(`${file} is not a valid audit checkpoint`);
  return parsed.data;
}

/** What verify compares the chain with: the last checkpoint and the key to check it, or why that can't be done. */
export type CheckpointEvidence =
  | { kind: "none" }
  | { kind: "checkpoint"; checkpoint: Checkpoint; publicKey: KeyObject }
  | { kind: "unusable"; reason: string };

export async function loadCheckpointEvidence(dataDir: string, configuredKey: string | undefined): Promise<CheckpointEvidence> {
  let checkpoint: Checkpoint | null;
  try {
    checkpoint = await readCheckpointFile(dataDir);
  } catch (e) {
    return { kind: "unusable", reason: e instanceof Error ? e.message : String(e) };
  }
  if (!checkpoint) return { kind: "none" };
  const key = await loadCheckpointKey(dataDir, configuredKey, { create: false }).catch(() => null);
  if (!key) return { kind: "unusable", reason: "the checkpoint key is missing, so the last checkpoint can't be checked" };
  return { kind: "checkpoint", checkpoint, publicKey: key.publicKey };
}
