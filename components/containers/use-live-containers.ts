"use client";
import { useQueryClient } from "@tanstack/react-query";
import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef } from "react";
import { useTRPC } from "@/components/trpc/client";

// Container lists come from the fleet's live state, which each agent's event
// stream keeps current. hosts.live says when a host's state (its container
// list included) changed: re-read what is on screen then, once per burst. No polling.

const REREAD_DEBOUNCE_MS = 300;

export function useLiveContainers({ enabled, hostId }: { enabled: boolean; hostId?: string }): { live: boolean } {
  const trpc = useTRPC();
  const qc = useQueryClient();
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
      void qc.invalidateQueries(trpc.containers.all.pathFilter());
      if (hostId) void qc.invalidateQueries(trpc.containers.inspect.pathFilter());
    }, REREAD_DEBOUNCE_MS);
  };

  const subscription = useSubscription(
    trpc.hosts.live.subscriptionOptions(enabled ? undefined : skipToken, {
      onStarted: rereadSoon,
      onData: (change) => {
        if (!hostId || change.hostId === hostId) rereadSoon();
      },
    }),
  );
  return { live: subscription.status === "pending" };
}
