import "server-only";

// The notification delivery worker (skeleton: the real loop lands next).
// The alert engine inserts AlertNotification rows (status "pending") and
// calls kickNotifications() so they go out now rather than at the next poll.

const holder = globalThis as unknown as { berthNotifyWake?: (() => void) | null };

/** Wakes the delivery worker of this process (a no-op when none runs). */
export function kickNotifications(): void {
  holder.berthNotifyWake?.();
}
