"use client";
import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef } from "react";
import { useTRPC } from "@/components/trpc/client";
import type { LiveChange } from "./host-status";

// Views made from the fleet's live state (the containers list, the dashboard)
// re-read it when hosts.live says a host changed: once per burst (a host
// connecting sends several changes), and once on (re)connecting, for what
// changed before. No polling.

const REREAD_DEBOUNCE_MS = 300;

export function useLiveReread({
  enabled = true,
  reread,
  concerns = () => true,
}: {
  enabled?: boolean;
  /** Invalidates the queries on screen. */
  reread: () => void;
  /** Whether a change is about what is on screen (a host detail page cares about its host only). */
  concerns?: (change: LiveChange) => boolean;
}): { live: boolean } {
  const trpc = useTRPC();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const rereadSoon = () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      reread();
    }, REREAD_DEBOUNCE_MS);
  };

  const subscription = useSubscription(
    trpc.hosts.live.subscriptionOptions(enabled ? undefined : skipToken, {
      onStarted: rereadSoon,
      onData: (change) => {
        if (concerns(change)) rereadSoon();
      },
    }),
  );
  return { live: subscription.status === "pending" };
}
