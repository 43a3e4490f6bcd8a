import "server-only";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * A random secret generated once and kept in a 0600 file, for settings the
 * operator did not provide (e.g. AUTH_SECRET).
 */
export async function readOrCreateKeyFile(file: string, bytes = 32): Promise<string> {
  if (existsSync(file)) {
    await chmod(file, 0o600);
    const value = (await readFile(file, "utf8")).trim();
    if (value.length >= 32) return value;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const value = randomBytes(bytes).toString("base64url");
  await writeFile(file, value + "\n", { mode: 0o600 });
  return value;
}
