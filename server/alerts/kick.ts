import "server-only";

// The evaluator queues AlertNotification rows and then asks the delivery
// worker (server/notify, the notifications part) to look at once rather than
// at its next poll. The worker registers itself here when it starts; until
// then (or on a gateway without it) a kick does nothing and the rows wait for
// the next poll. Kept on globalThis like the signal bus.

const holder = globalThis as unknown as { berthNotifyKick?: () => void };

export function kickNotifications(): void {
  try {
    holder.berthNotifyKick?.();
  } catch (e) {
    console.error("[berth] notification kick failed:", e instanceof Error ? e.message : e);
  }
}

/** The delivery worker's hook; returns a function that unregisters it. */
export function onKickNotifications(kick: () => void): () => void {
  holder.berthNotifyKick = kick;
  return () => {
    if (holder.berthNotifyKick === kick) holder.berthNotifyKick = undefined;
  };
}
