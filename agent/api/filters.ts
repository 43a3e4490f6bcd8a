import { ApiError } from "./errors";

// Docker's list and prune filters (moby api/types/filters.Args), as the
// endpoints that take them apply them: which keys an endpoint accepts, and how
// one key's values match. Values of one key are alternatives ("name=a" or
// "name=b"), except labels: every `label` value must hold (docker-compose
// lists a project's containers with several of them at once).

export type Filters = Map<string, string[]>;

/** dockerd's filters.Validate: an unknown key is refused, never ignored. */
export function acceptFilters(filters: Filters, accepted: readonly string[]): void {
  for (const key of filters.keys()) if (!accepted.includes(key)) throw new ApiError(400, `invalid filter '${key}'`);
}

/** MatchKVList: every "key" or "key=value" holds in `labels` (no values: true). */
export function matchKVList(values: readonly string[] | undefined, labels: Record<string, string>): boolean {
  if (!values || values.length === 0) return true;
  for (const value of values) {
    const eq = value.indexOf("=");
    const key = eq < 0 ? value : value.slice(0, eq);
    if (!Object.hasOwn(labels, key)) return false;
    if (eq >= 0 && labels[key] !== value.slice(eq + 1)) return false;
  }
  return true;
}

/** The label filters of a prune: every `label` holds, and not every `label!` does. */
export function matchPruneLabels(filters: Filters, labels: Record<string, string>): boolean {
  if (!matchKVList(filters.get("label"), labels)) return false;
  const not = filters.get("label!");
  return !(not && not.length > 0 && matchKVList(not, labels));
}

/** ExactMatch: one of the values is `source` (no values: true). */
export function matchExact(values: readonly string[] | undefined, source: string): boolean {
  return !values || values.length === 0 || values.includes(source);
}

/** Match: one of the values is `source`, or a regular expression found in it (no values: true). */
export function matchPattern(values: readonly string[] | undefined, source: string): boolean {
  if (!values || values.length === 0) return true;
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false; // dockerd skips a value that isn't a valid expression
    }
  });
}

/** A true/false filter such as `dangling` (one value: true/1 or false/0); undefined when absent. */
export function boolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters.get(key);
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new ApiError(400, `got more than one value for filter key "${key}"`);
  const v = values[0]!.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new ApiError(400, `invalid value for filter '${key}', must be "true" (or "1"), or "false" (or "0")`);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "10m", "1.5s"), in milliseconds; null when it isn't one. */
export function parseGoDuration(text: string): number | null {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (!m) return text === "0" ? 0 : null;
  let total = 0;
  for (const part of text.replace(/^[+-]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  return m[1] === "-" ? -total : total;
}

/**
 * moby's timetypes.GetTimestamp, as a prune's `until` takes it: a duration
 * before now ("24h"), a Unix time ("1700000000[.nanos]"), or an RFC 3339 /
 * ISO date and time. Milliseconds since the epoch; null when it is none of them.
 */
export function parseTimestamp(value: string, nowMs: number): number | null {
  // "0" is the epoch, as in dockerd, not a zero duration.
  const duration = value === "0" ? null : parseGoDuration(value);
  if (duration !== null) return nowMs - duration;
  if (/^\d+(\.\d{1,9})?$/.test(value)) return Number(value) * 1000;
  // Dates without a zone are local time in dockerd too; Date.parse reads "YYYY-MM-DD" alone as UTC, so add a time.
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** A prune's `until` (at most one): only what was created before it is pruned. Undefined when absent. */
export function untilFilter(filters: Filters, nowMs = Date.now()): number | undefined {
  const values = filters.get("until");
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new ApiError(400, "more than one until filter specified");
  const at = parseTimestamp(values[0]!, nowMs);
  if (at === null) throw new ApiError(400, `invalid filter 'until=${values[0]}': not a duration, a Unix time or an RFC 3339 date`);
  return at;
}
