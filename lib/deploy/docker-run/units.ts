// Docker's byte sizes and Go's durations, both ways: read from flags
// (--memory 512m, --health-interval 1m30s) and written back by formatDockerRun.

export const UNIT_POWER: Record<string, number> = { "": 0, b: 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * Docker's units.RAMInBytes (--memory, --mount tmpfs-size): a number with an
 * optional binary unit b, k, m, g, t, p (any case, optional "i"/"b" suffix),
 * e.g. 512m, 1.5g, 64MiB, 1048576.
 */
export function parseByteSize(raw: string): number | null {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(raw);
  if (!m) return null;
  const unit = (m[2] ?? "").toLowerCase();
  return Math.trunc(Number(m[1]) * 1024 ** UNIT_POWER[unit]!);
}

/** Bytes as the shortest exact size: 536870912 → "512m", 1000 → "1000". */
export function formatByteSize(bytes: number): string {
  for (const [unit, power] of [["g", 3], ["m", 2], ["k", 1]] as const) {
    const size = 1024 ** power;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

const DURATION_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (non-negative): "30s", "1m30s", "500ms", "1.5h", "0". Nanoseconds, or null. */
export function parseGoDuration(raw: string): number | null {
  const text = raw.startsWith("+") ? raw.slice(1) : raw;
  if (text === "0") return 0;
  if (text === "") return null;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ns = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    const [whole = "0", frac = ""] = m[1]!.split(".");
    const unit = DURATION_UNITS_NS[m[2]!]!;
    ns += Number(whole) * unit + (frac ? Math.round(Number(`0.${frac}`) * unit) : 0);
    at = re.lastIndex;
  }
  return ns;
}

/** A decimal without exponent notation: 1.5 → "1.5", 1e-7 → "0.0000001". */
export function formatDecimal(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(12).replace(/\.?0+$/, "");
}

/** Seconds as a Go duration: 30 → "30s", 90 → "1m30s", 0.5 → "500ms", 3600 → "1h". */
export function formatGoDuration(seconds: number): string {
  let ns = Math.round(seconds * 1e9);
  if (ns === 0) return "0s";
  const h = Math.floor(ns / 3600e9);
  ns -= h * 3600e9;
  const m = Math.floor(ns / 60e9);
  ns -= m * 60e9;
  let out = (h ? `${h}h` : "") + (m ? `${m}m` : "");
  if (ns) {
    // Under a second on its own: in ms, us or ns as Go prints it; else fractional seconds.
    if (out || ns >= 1e9) out += `${formatDecimal(ns / 1e9)}s`;
    else if (ns >= 1e6) out += `${formatDecimal(ns / 1e6)}ms`;
    else if (ns >= 1e3) out += `${formatDecimal(ns / 1e3)}us`;
    else out += `${ns}ns`;
  }
  return out;
}
