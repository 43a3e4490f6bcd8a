import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeSecretKey, loadSecretBox, SecretBox } from "../../../server/secrets/cipher";

const OPEN_FAILED = /sealed secret does not open with this key/;

/** Replaces one base64url character of a sealed value's part (1 = iv, 2 = tag, 3 = body). */
function tamper(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split(".");
  const p = parts[part]!;
  parts[part] = (p[0] === "A" ? "B" : "A") + p.slice(1);
  return parts.join(".");
}

describe("secrets/cipher", () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  describe("SecretBox", () => {
    it("opens what it sealed, for the same purpose", () => {
      for (const text of ["hunter2", "", "ünïcødé ✓ and a\nnewline", "x".repeat(10_000)]) {
        expect(box.open(box.seal(text, "host-credential"), "host-credential")).toBe(text);
      }
    });

    it("seals in the versioned v1.<iv>.<tag>.<body> form", () => {
      const parts = box.seal("secret", "p").split(".");
      expect(parts).toHaveLength(4);
      expect(parts[0]).toBe("v1");
      expect(Buffer.from(parts[1]!, "base64url")).toHaveLength(12);
      expect(Buffer.from(parts[2]!, "base64url")).toHaveLength(16);
      expect(parts.join(".")).not.toContain("secret");
    });

    it("seals the same text differently each time", () => {
      const a = box.seal("same text", "p");
      const b = box.seal("same text", "p");
      expect(a).not.toBe(b);
      expect(box.open(a, "p")).toBe(box.open(b, "p"));
    });

    it("refuses to open for another purpose", () => {
      const sealed = box.seal("secret", "host-credential");
      expect(() => box.open(sealed, "registry-password")).toThrow(OPEN_FAILED);
    });

    it("refuses to open under another key", () => {
      const sealed = box.seal("secret", "p");
      expect(() => new SecretBox(randomBytes(32)).open(sealed, "p")).toThrow(OPEN_FAILED);
    });

    it("refuses a tampered iv, tag or ciphertext", () => {
      const sealed = box.seal("a secret long enough to tamper with", "p");
      for (const part of [1, 2, 3] as const) {
        expect(() => box.open(tamper(sealed, part), "p")).toThrow(OPEN_FAILED);
      }
    });

    it("refuses a truncated tag or iv with the same clear error", () => {
      const sealed = box.seal("secret", "p");
      const [v, iv, tag, body] = sealed.split(".") as [string, string, string, string];
      // GCM verifies a truncated tag against a prefix of the real one unless the length is pinned.
      const shortTag = Buffer.from(tag, "base64url").subarray(0, 12).toString("base64url");
      const tinyTag = Buffer.from(tag, "base64url").subarray(0, 4).toString("base64url");
      const shortIv = Buffer.from(iv, "base64url").subarray(0, 8).toString("base64url");
      expect(() => box.open([v, iv, shortTag, body].join("."), "p")).toThrow(OPEN_FAILED);
      expect(() => box.open([v, iv, tinyTag, body].join("."), "p")).toThrow(OPEN_FAILED);
      expect(() => box.open([v, shortIv, tag, body].join("."), "p")).toThrow(OPEN_FAILED);
      expect(() => box.open([v, "", tag, body].join("."), "p")).toThrow(OPEN_FAILED);
      expect(() => box.open([v, iv, "", body].join("."), "p")).toThrow(OPEN_FAILED);
    });

    it("refuses text that is not a sealed secret", () => {
      expect(() => box.open("plain text", "p")).toThrow("not a sealed secret");
      expect(() => box.open("v2.a.b.c", "p")).toThrow("not a sealed secret");
      expect(() => box.open("v1.a.b", "p")).toThrow("not a sealed secret");
    });

    it("needs a 32-byte key", () => {
      expect(() => new SecretBox(randomBytes(16))).toThrow("secret key must be 32 bytes");
    });
  });

  describe("decodeSecretKey", () => {
    it("accepts 64 hex characters", () => {
      const hex = key.toString("hex");
      expect(decodeSecretKey(hex)).toEqual(key);
      expect(decodeSecretKey(hex.toUpperCase())).toEqual(key);
      expect(decodeSecretKey(`  ${hex}\n`)).toEqual(key);
    });

    it("accepts base64 and base64url of 32 bytes, padded or not", () => {
      // Bytes that need + and / in base64 (and - and _ in base64url).
      const k = Buffer.alloc(32, 0xfb);
      k[0] = 0xff;
      const b64 = k.toString("base64");
      expect(b64).toMatch(/[+/]/);
      expect(decodeSecretKey(b64)).toEqual(k);
      expect(decodeSecretKey(b64.replace(/=+$/, ""))).toEqual(k);
      expect(decodeSecretKey(k.toString("base64url"))).toEqual(k);
    });

    it("rejects other lengths and other text", () => {
      expect(decodeSecretKey("")).toBeNull();
      expect(decodeSecretKey("not a key")).toBeNull();
      expect(decodeSecretKey(key.toString("hex").slice(0, 62))).toBeNull();
      expect(decodeSecretKey(randomBytes(16).toString("hex"))).toBeNull();
      expect(decodeSecretKey(randomBytes(31).toString("base64"))).toBeNull();
      expect(decodeSecretKey(randomBytes(33).toString("base64"))).toBeNull();
      expect(decodeSecretKey(randomBytes(64).toString("base64url"))).toBeNull();
      expect(decodeSecretKey(`${key.toString("hex").slice(0, 63)}g`)).toBeNull();
    });
  });

  describe("loadSecretBox", () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "berth-secret-"));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("creates <dir>/secret.key (mode 0600) once and reuses it", async () => {
      const file = path.join(dir, "data", "secret.key");
      const first = await loadSecretBox(undefined, path.join(dir, "data"));
      const info = await stat(file);
      expect(info.mode & 0o777).toBe(0o600);
      const text = await readFile(file, "utf8");
      expect(decodeSecretKey(text)).toHaveLength(32);

      const second = await loadSecretBox(undefined, path.join(dir, "data"));
      expect(await readFile(file, "utf8")).toBe(text);
      expect(second.open(first.seal("kept", "p"), "p")).toBe("kept");
    });

    it("uses a configured key over the key file", async () => {
      const fromFile = await loadSecretBox(undefined, dir);
      const configured = await loadSecretBox(key.toString("hex"), dir);
      expect(configured.open(box.seal("configured", "p"), "p")).toBe("configured");
      expect(() => fromFile.open(configured.seal("x", "p"), "p")).toThrow(OPEN_FAILED);
    });

    it("creates no key file when a key is configured", async () => {
      await loadSecretBox(key.toString("base64"), dir);
      await expect(stat(path.join(dir, "secret.key"))).rejects.toThrow(/ENOENT/);
    });

    it("refuses a bad configured key, naming BERTH_SECRET_KEY", async () => {
      await expect(loadSecretBox("too-short", dir)).rejects.toThrow(/BERTH_SECRET_KEY must be 32 bytes/);
    });

    it("replaces a key file too short to be a key", async () => {
      await writeFile(path.join(dir, "secret.key"), "short\n", { mode: 0o644 });
      const loaded = await loadSecretBox(undefined, dir);
      const text = await readFile(path.join(dir, "secret.key"), "utf8");
      expect(decodeSecretKey(text)).toHaveLength(32);
      expect((await loadSecretBox(undefined, dir)).open(loaded.seal("y", "p"), "p")).toBe("y");
    });
  });
});
