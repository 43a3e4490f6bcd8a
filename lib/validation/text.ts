import { z } from "zod";

// Names and short descriptions people type (host groups, users, roles, tokens,
// registries) are shown to other people and stored in Postgres. Postgres can't
// store NUL (the insert fails: a 500 instead of an answer), a lone UTF-16
// surrogate can't be encoded at all, and other control characters or
// bidirectional overrides hide or reorder what others see ("exe.txt" shown for
// "txt.exe"). So they are refused at the input, with a message that says why,
// rather than stored or silently removed.

// C0 and C1 controls and DEL (\p{Cc}), and the bidi embeddings, overrides,
// isolates and marks (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
const CONTROL = /[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** Why `value` can't be a name or description, or null when it can. */
export function plainTextProblem(value: string): string | null {
  if (!value.isWellFormed()) return "must be valid Unicode text (it has an unpaired UTF-16 surrogate)";
  if (CONTROL.test(value)) return "must not contain control characters (NUL, tab, line breaks…) or invisible text-direction marks";
  return null;
}

/** Trimmed text on one line, free of control characters, between `min` and `max` characters. */
export function plainTextSchema(options: { min?: number; max: number; minMessage?: string }) {
  const base = z.string().trim();
  return (options.min ? base.min(options.min, options.minMessage) : base).max(options.max).superRefine((value, ctx) => {
    const problem = plainTextProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** A name: 1 to `max` characters (60 unless told). */
export function nameSchema(max = 60, emptyMessage?: string) {
  return plainTextSchema({ min: 1, max, minMessage: emptyMessage });
}
