import "server-only";
import { TRPCError } from "@trpc/server";

/**
 * At most `max` open subscriptions per user, counted for each stream's whole
 * life (a viewer must not use up a host's SSH sessions). It lives at the
 * boundary because a subscription's error is thrown while it streams, past
 * the procedure's error mapping: only a TRPCError reaches the client as
 * itself (TOO_MANY_REQUESTS), anything else as an internal error.
 */
export function perUserStreamLimit(max: number, message: string) {
  const open = new Map<string, number>();
  return async function* limited<T>(userId: string, stream: () => AsyncIterable<T>): AsyncGenerator<T> {
    if ((open.get(userId) ?? 0) >= max) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message });
    open.set(userId, (open.get(userId) ?? 0) + 1);
    try {
      yield* stream();
    } finally {
      open.set(userId, (open.get(userId) ?? 1) - 1);
    }
  };
}
