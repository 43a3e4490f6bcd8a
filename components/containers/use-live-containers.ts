"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useLiveReread } from "@/components/hosts/use-live-reread";
import { useTRPC } from "@/components/trpc/client";

// Container lists come from the fleet's live state, which each agent's event
// stream keeps current: re-read what is on screen when a host's state (its
// container list included) changed.

export function useLiveContainers({ enabled, hostId }: { enabled: boolean; hostId?: string }): { live: boolean } {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useLiveReread({
    enabled,
    concerns: (change) => !hostId || change.hostId === hostId,
    reread: () => {
      void qc.invalidateQueries(trpc.containers.all.pathFilter());
      if (hostId) void qc.invalidateQueries(trpc.containers.inspect.pathFilter());
    },
  });
}
