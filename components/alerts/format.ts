// How the alert pages write durations and label selectors, and which part of
// a container's log belongs to an alert. Pure: no React.

const BEFORE_S = 5 * 60;
const AFTER_S = 5 * 60;

/** 90 → "1 min 30 s", 0 → "at once". */
export function formatSeconds(total: number): string {
  if (total <= 0) return "at once";
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", s ? `${s} s` : ""].filter(Boolean).join(" ");
}

/** A repeat interval in minutes; 0: never repeats. */
export function formatRepeat(minutes: number): string {
  if (minutes <= 0) return "never";
  return `every ${formatSeconds(minutes * 60)}`;
}

/** A label selector as lines of key=value (key alone: the label exists). */
export function labelsToText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => (v === "" ? k : `${k}=${v}`))
    .join("\n");
}

/** Lines of key=value into a selector; the first bad line is named. */
export function parseLabels(text: string): { labels: Record<string, string>; error: string | null } {
  const labels: Record<string, string> = {};
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const eq = line.indexOf("=");
    const key = (eq === -1 ? line : line.slice(0, eq)).trim();
    const value = eq === -1 ? "" : line.slice(eq + 1).trim();
    if (!key) return { labels, error: `Label ${i + 1} (“${line}”) has no key: write key=value, or key alone.` };
    labels[key] = value;
  }
  return { labels, error: null };
}

/** The window of the log to read, in unix seconds. */
export function logWindow(firedAt: Date, resolvedAt: Date | null): { since: number; until: number } {
  const fired = Math.floor(new Date(firedAt).getTime() / 1000);
  const end = resolvedAt ? Math.floor(new Date(resolvedAt).getTime() / 1000) + 60 : fired + AFTER_S;
  return { since: Math.max(0, fired - BEFORE_S), until: Math.max(end, fired + 60) };
}

