import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FINGERPRINT_PATTERN, fingerprintOf } from "../../../server/fleet/ssh/fingerprint";

describe("fleet/ssh/fingerprint", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-fp-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const type of ["ed25519", "ecdsa"]) {
    it(`matches ssh-keygen -lf for a generated ${type} key`, async () => {
      const key = path.join(dir, `id_${type}`);
      execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "test", "-f", key]);
      const blob = Buffer.from((await readFile(`${key}.pub`, "utf8")).trim().split(/\s+/)[1]!, "base64");
      // "256 SHA256:… test (ED25519)"
      const expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${key}.pub`], { encoding: "utf8" }).split(" ")[1];

      expect(fingerprintOf(blob)).toBe(expected);
      expect(fingerprintOf(blob)).toMatch(FINGERPRINT_PATTERN);
    });
  }

  it("has no base64 padding and differs per key", () => {
    const a = fingerprintOf(Buffer.from("a"));
    expect(a).toMatch(FINGERPRINT_PATTERN);
    expect(a.endsWith("=")).toBe(false);
    expect(fingerprintOf(Buffer.from("b"))).not.toBe(a);
  });

  it("FINGERPRINT_PATTERN rejects other forms", () => {
    expect(FINGERPRINT_PATTERN.test("MD5:aa:bb")).toBe(false);
    expect(FINGERPRINT_PATTERN.test(`${fingerprintOf(Buffer.from("a"))}=`)).toBe(false);
  });
});
