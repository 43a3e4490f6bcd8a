import { describe, expect, it } from "vitest";
import { REDACTED, redactParams } from "../../server/audit/redact";

describe("audit parameter redaction", () => {
  it("replaces secrets at any depth and keeps the rest", () => {
    expect(
      redactParams({
        email: "a@example.test",
        password: "p",
        nested: { privateKey: "k", sshPassphrase: "x", registry: { token: "t", url: "u" } },
        list: [{ secret: 1, name: "n" }],
      }),
    ).toEqual({
      email: "a@example.test",
      password: REDACTED,
      nested: { privateKey: REDACTED, sshPassphrase: REDACTED, registry: { token: REDACTED, url: "u" } },
      list: [{ secret: REDACTED, name: "n" }],
    });
  });

  it("keeps the name of an entry marked secret but never its value", () => {
    const spec = { env: [{ name: "API_KEY", value: "s3cr3t", secret: true }, { name: "MODE", value: "demo", secret: false }] };
    expect(redactParams(spec)).toEqual({ env: [{ name: "API_KEY", value: REDACTED, secret: REDACTED }, { name: "MODE", value: "demo", secret: REDACTED }] });
  });

  it("caps long strings, deep nesting and wide objects, and drops NUL bytes", () => {
    expect((redactParams("x".repeat(5000)) as string).length).toBe(1001);
    expect(redactParams("a\u0000b")).toBe("ab");
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 10; i++) deep = { d: deep };
    expect(JSON.stringify(redactParams(deep))).toContain("[truncated]");
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(redactParams(wide) as object)).toHaveLength(100);
    expect(redactParams({ n: 10n, d: new Date(0), f: Infinity })).toEqual({ n: "10", d: "1970-01-01T00:00:00.000Z", f: "Infinity" });
  });
});
