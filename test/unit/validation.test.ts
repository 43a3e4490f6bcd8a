import { describe, expect, it } from "vitest";
import { dockerImageRefSchema, dockerObjectRefSchema } from "../../lib/validation/docker-objects";
import { nameSchema, plainTextProblem, plainTextSchema } from "../../lib/validation/text";

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

describe("Docker object ids and names", () => {
  it("containers, networks, volumes: ids, prefixes and names pass; dot segments, slashes and blanks don't", () => {
    for (const good of ["web", "a", "3f2c", "a".repeat(64), "my_app.v2-1"]) expect(dockerObjectRefSchema.safeParse(good).success, good).toBe(true);
    for (const bad of [".", "..", "../json", "a/b", "", " ", "-x", "_x", ".hidden", "a b", "a\u0000", "%2e"]) {
      expect(dockerObjectRefSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
  it("images: ids (with or without sha256:) and references pass; dot segments don't", () => {
    for (const good of ["sha256:" + "a".repeat(64), "a8554b194ed7", "nginx", "nginx:1.27", "registry.example.com:5000/team/app:v2", "busybox@sha256:" + "b".repeat(64)]) {
      expect(dockerImageRefSchema.safeParse(good).success, good).toBe(true);
    }
    for (const bad of [".", "..", "a/../b", "", "UPPER", "x\u0000y"]) expect(dockerImageRefSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
