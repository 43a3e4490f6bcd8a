import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bearerToken, displayPrefix, generateTokenSecret, hashTokenSecret, isTokenSecret, TOKEN_BODY_LENGTH } from "../../../server/tokens/format";

describe("API token secrets", () => {
  it("look like berth_ + 40 base62 characters and are different each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const secret = generateTokenSecret();
      expect(secret).toMatch(/^berth_[0-9A-Za-z]{40}$/);
      expect(isTokenSecret(secret)).toBe(true);
      seen.add(secret);
    }
    expect(seen.size).toBe(200);
  });

  it("skip random bytes that would bias the alphabet, and ask for more when needed", () => {
    // 248..255 would map onto "0".."7" a second time: they are dropped.
    let calls = 0;
    const random = (size: number) => {
      calls++;
      return Buffer.alloc(size, calls === 1 ? 255 : 61);
    };
    const secret = generateTokenSecret(random);
    expect(calls).toBe(2);
    expect(secret).toBe(`berth_${"z".repeat(TOKEN_BODY_LENGTH)}`);
  });

  it("are stored as their SHA-256 and listed by a short prefix", () => {
    const secret = generateTokenSecret();
    expect(hashTokenSecret(secret)).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(hashTokenSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(displayPrefix(secret)).toBe(secret.slice(0, 12));
    expect(secret.startsWith(displayPrefix(secret))).toBe(true);
  });

  it("are read from a Bearer header only when well-formed", () => {
    const secret = generateTokenSecret();
    expect(bearerToken(`Bearer ${secret}`)).toBe(secret);
    expect(bearerToken(`bearer ${secret}`)).toBe(secret);
    expect(bearerToken(`Bearer  ${secret} `)).toBe(secret);
    for (const bad of [
      null,
      "",
      secret,
      `Basic ${secret}`,
      "Bearer",
      "Bearer ",
      `Bearer ${secret}x`,
      `Bearer ${secret.slice(0, -1)}`,
      `Bearer ${secret.replace("berth_", "other_")}`,
      `Bearer ${secret.slice(0, -1)}-`,
      `Bearer ${secret} extra`,
    ]) {
      expect(bearerToken(bad), String(bad)).toBeNull();
    }
  });
});
