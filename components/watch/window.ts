import type { MaintenanceWindow } from "@/lib/rollouts/views";

// The watch form's values and checks. Pure: no React.

export const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

export interface WatchDraft {
  enabled: boolean;
  intervalMinutes: string;
  minAgeMinutes: string;
  useWindow: boolean;
  days: number[];
  start: string;
  end: string;
  timeZone: string;
  preApproved: boolean;
}

export function draftOf(w: { enabled: boolean; intervalSeconds: number; minAgeSeconds: number; window: MaintenanceWindow | null; preApproved: boolean } | null, defaultZone: string): WatchDraft {
  return {
    enabled: w?.enabled ?? true,
    intervalMinutes: String(w ? Math.max(1, Math.round(w.intervalSeconds / 60)) : 5),
    minAgeMinutes: String(w ? Math.round(w.minAgeSeconds / 60) : 0),
    useWindow: Boolean(w?.window),
    days: w?.window?.days ?? [],
    start: w?.window?.start ?? "02:00",
    end: w?.window?.end ?? "05:00",
    timeZone: w?.window?.timeZone ?? defaultZone,
    preApproved: w?.preApproved ?? false,
  };
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export interface WatchSettings {
  enabled: boolean;
  intervalSeconds: number;
  minAgeSeconds: number;
  window: MaintenanceWindow | null;
  preApproved: boolean;
}

/** The draft as the watches.set input, or the problems per field. */
export function settingsOf(d: WatchDraft, mayPreApprove: boolean): { settings: WatchSettings | null; problems: Partial<Record<keyof WatchDraft, string>> } {
  const problems: Partial<Record<keyof WatchDraft, string>> = {};
  const interval = Number(d.intervalMinutes);
  if (!/^\d+$/.test(d.intervalMinutes) || interval < 1 || interval > 1440) problems.intervalMinutes = "Whole minutes from 1 to 1440.";
  const minAge = Number(d.minAgeMinutes);
  if (!/^\d+$/.test(d.minAgeMinutes) || minAge > 43_200) problems.minAgeMinutes = "Whole minutes from 0 to 43200 (30 days).";
  if (d.useWindow) {
    if (!HHMM.test(d.start)) problems.start = "A time such as 02:00.";
    if (!HHMM.test(d.end)) problems.end = "A time such as 05:00.";
    if (!d.timeZone.trim() || !validZone(d.timeZone.trim())) problems.timeZone = "An IANA time zone such as UTC or Europe/Berlin.";
  }
  if (Object.keys(problems).length) return { settings: null, problems };
  return {
    settings: {
      enabled: d.enabled,
      intervalSeconds: interval * 60,
      minAgeSeconds: minAge * 60,
      window: d.useWindow ? { days: [...d.days].sort(), start: d.start, end: d.end, timeZone: d.timeZone.trim() } : null,
      preApproved: mayPreApprove && d.preApproved,
    },
    problems,
  };
}

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** "Mon–Fri 02:00–05:00 Europe/Berlin" style, for a list. */
export function windowText(w: MaintenanceWindow | null): string {
  if (!w) return "any time";
  const days = w.days.length === 0 || w.days.length === 7 ? "every day" : w.days.map((d) => DAY_NAMES[d]).join(", ");
  return `${days}, ${w.start}–${w.end} ${w.timeZone}`;
}
