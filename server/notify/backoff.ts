import "server-only";

// When a failed delivery is tried again: 5 s, 30 s, 2 min, 10 min, 30 min
// after the 1st…5th failure, each ±20 % (jitter, so a receiver that comes back
// isn't hit by every gateway's queue at the same instant); after the 6th
// failure the delivery is "dead". A permanent refusal (a 4xx other than 408
// and 429, an SMTP 5xx) is dead at once.

export const RETRY_SECONDS: readonly number[] = [5, 30, 120, 600, 1800];
export const JITTER = 0.2;

/**
 * Milliseconds until the next attempt after `attempts` failed ones (1-based),
 * or null when the schedule is used up. `random` in [0, 1).
 */
export function nextRetryDelayMs(attempts: number, schedule: readonly number[] = RETRY_SECONDS, random: () => number = Math.random): number | null {
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > schedule.length) return null;
  const base = schedule[attempts - 1]! * 1000;
  return Math.max(0, Math.round(base * (1 - JITTER + 2 * JITTER * random())));
}
