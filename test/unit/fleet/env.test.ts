import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../../../server/env";

describe("env BERTH_SECRET_KEY", () => {
  it("accepts a hex or base64 32-byte key, and no key at all", () => {
    const key = randomBytes(32);
    expect(parseEnv({ BERTH_SECRET_KEY: key.toString("hex") }).BERTH_SECRET_KEY).toBe(key.toString("hex"));
    expect(parseEnv({ BERTH_SECRET_KEY: key.toString("base64") }).BERTH_SECRET_KEY).toBe(key.toString("base64"));
    expect(parseEnv({}).BERTH_SECRET_KEY).toBeUndefined();
    expect(parseEnv({ BERTH_SECRET_KEY: "  " }).BERTH_SECRET_KEY).toBeUndefined();
  });

  it("refuses a bad key, naming the variable", () => {
    for (const bad of ["changeme", randomBytes(16).toString("hex"), randomBytes(48).toString("base64")]) {
      expect(() => parseEnv({ BERTH_SECRET_KEY: bad })).toThrow(EnvError);
      expect(() => parseEnv({ BERTH_SECRET_KEY: bad })).toThrow(/BERTH_SECRET_KEY: must be 32 bytes as 64 hex characters or base64/);
    }
  });
});
