import "server-only";
/**
 * Reconnect delay: exponential from `baseMs`, capped at `maxMs`, with jitter
 * (50–100% of the step) so a fleet that lost the gateway doesn't reconnect in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(step * (0.5 + random() * 0.5));
}
