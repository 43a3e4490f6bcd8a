import "server-only";
import type { MaintenanceWindow } from "../../lib/rollouts/views";

// Maintenance windows: days of the week and a time span in an IANA time zone.
// A window whose end is at or before its start crosses midnight: it belongs to
// the day it starts on ("Fri 22:00–02:00" runs from Friday 22:00 to Saturday
// 02:00). start == end is the whole day. No days listed: every day. Local
// times come from Intl, so daylight-saving changes are the zone's own.

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Whether `timeZone` is a zone Intl knows (checked when a window is saved). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The weekday (0 = Sunday) and minute of the day at `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    if (formatters.size < 200) formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return { day: WEEKDAY[parts.weekday!] ?? 0, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

/** Whether `at` falls inside the window (null: no window, always inside). */
export function insideWindow(window: MaintenanceWindow | null | undefined, at: Date): boolean {
  if (!window) return true;
  const { day, minute } = localTime(at, window.timeZone);
  const start = minutes(window.start);
  const end = minutes(window.end);
  const onDay = (d: number) => window.days.length === 0 || window.days.includes(d);
  if (start === end) return onDay(day);
  if (start < end) return onDay(day) && minute >= start && minute < end;
  // Crosses midnight: the evening part belongs to today, the early part to yesterday's window.
  if (minute >= start) return onDay(day);
  if (minute < end) return onDay((day + 6) % 7);
  return false;
}

/**
 * The next time (after `from`, to the minute) the window opens, or `from`
 * when it is open; null with no day at all. Bounded: a week of minutes at most.
 */
export function nextOpening(window: MaintenanceWindow | null | undefined, from: Date): Date | null {
  if (insideWindow(window, from)) return from;
  const start = new Date(Math.ceil(from.getTime() / 60_000) * 60_000);
  // Whole-minute steps to the next quarter hour first would be faster; a week is 10,080 checks, cheap enough.
  for (let i = 0; i <= 7 * 24 * 60; i++) {
    const at = new Date(start.getTime() + i * 60_000);
    if (insideWindow(window, at)) return at;
  }
  return null;
}

/** "Mon–Fri 22:00–02:00 Europe/Berlin" for messages. */
export function describeWindow(window: MaintenanceWindow): string {
  const names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const days = window.days.length === 0 || window.days.length === 7 ? "every day" : [...window.days].sort().map((d) => names[d]).join(",");
  return `${days} ${window.start}–${window.end} ${window.timeZone}`;
}
