import "server-only";
import { storableText } from "../../lib/storable-text";

// Parameters are stored with secrets replaced, strings capped and depth bounded.
// (The writer then makes the result storable: keys too, and a cap that split a surrogate pair.)
const SECRET_KEY = /pass(word|phrase)?|secret|token|private.?key|credential|authorization|cookie|api.?key/i;
const MAX_STRING = 1000;
const MAX_DEPTH = 6;
const MAX_KEYS = 100;

export const REDACTED = "[redacted]";

export function redactParams(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") {
    // \u0000 and unpaired surrogates can't be stored in jsonb.
    const clean = storableText(value);
    return clean.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}…` : clean;
  }
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => redactParams(v, depth + 1));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    // An entry marked secret (a deploy spec's secret environment variable) keeps its name, never its value.
    const markedSecret = (value as { secret?: unknown }).secret === true;
    for (const [k, v] of Object.entries(value).slice(0, MAX_KEYS)) {
      if (v === undefined) continue;
      out[k] = SECRET_KEY.test(k) || (markedSecret && k === "value") ? REDACTED : redactParams(v, depth + 1);
    }
    return out;
  }
  return String(value);
}
