// What Postgres can store, for every string that goes into a text or JSON
// column. Postgres refuses two things a JavaScript string may hold: the NUL
// character (in text and jsonb alike: "unsupported Unicode escape sequence")
// and unpaired UTF-16 surrogates (jsonb rejects the \udXXX escape; a text
// column silently gets U+FFFD, so what was hashed would differ from what is
// stored). Pure: the deploy form (browser), the spec schema and the database
// layer all use it.

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE = new RegExp(`\u0000|${UNPAIRED_SURROGATE.source}`, "g");

/** Why a string can't be stored as it is, or null when it can. */
export function unstorableTextProblem(value: string): string | null {
  if (value.includes("\u0000")) return "can't contain a NUL character (\\u0000)";
  if (UNPAIRED_SURROGATE.test(value)) return "can't contain an unpaired UTF-16 surrogate (invalid Unicode)";
  return null;
}

/**
 * The string as it can be stored: NUL characters dropped, unpaired surrogates
 * replaced by U+FFFD (as String.prototype.toWellFormed does). Idempotent, so
 * a value sanitised twice is stored (and hashed) the same.
 */
export function storableText(value: string): string {
  return value.replace(UNSTORABLE, (c) => (c === "\u0000" ? "" : "\uFFFD"));
}

export function storableTextOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : storableText(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A JSON value with every string, object keys included, made storable. Keys
 * that become equal after sanitising are all kept: later ones get their
 * original spelling JSON-escaped (e.g. `a\u0000b`), so nothing is lost.
 * Anything that isn't a plain object or array (Prisma's JsonNull sentinels,
 * Dates) is left as it is.
 */
export function storableJson<T>(value: T): T {
  if (typeof value === "string") return storableText(value) as T;
  if (Array.isArray(value)) return value.map((v) => storableJson(v)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  const changed: [string, unknown][] = [];
  for (const [key, v] of Object.entries(value)) {
    if (storableText(key) === key) out[key] = storableJson(v);
    else changed.push([key, v]);
  }
  for (const [key, v] of changed) {
    const clean = storableText(key);
    out[Object.hasOwn(out, clean) ? JSON.stringify(key).slice(1, -1) : clean] = storableJson(v);
  }
  return out as T;
}
