import { describe, expect, it } from "vitest";
import { nameSchema, plainTextProblem, plainTextSchema } from "../../server/validation/text";

describe("names people type", () => {
  it("refuses NUL, other control characters, bidi overrides and lone surrogates, with a reason", () => {
    for (const bad of ["a\u0000b", "tab\there", "line\nbreak", "esc\u001b[31m", "del\u007f", "c1\u0085", "rtl\u202Eexe.txt", "isolate\u2066x", "lone\uD800", "low\uDC00first"]) {
      expect(plainTextProblem(bad), JSON.stringify(bad)).not.toBeNull();
      const parsed = nameSchema().safeParse(bad);
      expect(parsed.success, JSON.stringify(bad)).toBe(false);
    }
    expect(plainTextProblem("lone\uD800")).toMatch(/surrogate/);
    expect(plainTextProblem("a\u0000b")).toMatch(/control characters/);
  });
  it("keeps ordinary text: accents, scripts, emoji (a surrogate pair), zero-width joiners; trims the ends", () => {
    for (const good of ["Équipe ops", "東京 cluster", "🚀 launch", "👩‍💻 devs", "a.b-c_d"]) {
      expect(plainTextProblem(good), good).toBeNull();
      expect(nameSchema().parse(`  ${good} `)).toBe(good);
    }
    expect(nameSchema().safeParse("   ").success).toBe(false);
    expect(plainTextSchema({ max: 300 }).parse("")).toBe("");
    expect(nameSchema(5).safeParse("toolong").success).toBe(false);
  });
});
