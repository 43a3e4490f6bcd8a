"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef } from "react";
import { useTRPC } from "@/components/trpc/client";
import type { HostItem, LiveChange } from "./host-status";

// Keeps the cached host list (and any open host) current from the hosts.live
// subscription: no polling. A change is applied to the cache at once; when it
// says more than the event carries (a new status brings new facts, a changed
// key brings the presented fingerprint), the host is read again once.

const REFETCH_DEBOUNCE_MS = 250;

function applyChange(h: HostItem, c: LiveChange): HostItem {
  return {
    ...h,
    status: c.status,
    statusMessage: c.message ?? h.statusMessage,
    stale: c.stale,
    agent: c.agent,
    agentVersion: c.agentVersion ?? h.agentVersion,
    containerCount: c.containerCount,
    runningCount: c.runningCount,
    presentedFingerprint: c.status === "hostKeyChanged" ? h.presentedFingerprint : null,
    samples: c.samples ?? h.samples,
  };
}

function needsReread(h: HostItem, c: LiveChange): boolean {
  return h.status !== c.status || h.agent !== c.agent || (c.agentVersion !== null && h.agentVersion !== c.agentVersion);
}

export function useLiveHosts(): { live: boolean } {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const dirty = useRef<{ list: boolean; hosts: Set<string> }>({ list: false, hosts: new Set() });

  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const rereadSoon = (what: { list?: boolean; hostId?: string }) => {
    if (what.list) dirty.current.list = true;
    if (what.hostId) dirty.current.hosts.add(what.hostId);
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      const { list, hosts } = dirty.current;
      dirty.current = { list: false, hosts: new Set() };
      if (list) void qc.invalidateQueries(trpc.hosts.list.pathFilter());
      for (const hostId of hosts) void qc.invalidateQueries(trpc.hosts.get.queryFilter({ hostId }));
    }, REFETCH_DEBOUNCE_MS);
  };

  const subscription = useSubscription(
    trpc.hosts.live.subscriptionOptions(undefined, {
      // Whatever changed before this (re)connection was not streamed to us: read it once.
      onStarted: () => {
        void qc.invalidateQueries(trpc.hosts.list.pathFilter());
        void qc.invalidateQueries(trpc.hosts.get.pathFilter());
      },
      onData: (change) => {
        let known = false;
        let reread = false;
        qc.setQueryData(trpc.hosts.list.queryKey(), (old) =>
          old?.map((h) => {
            if (h.id !== change.hostId) return h;
            known = true;
            reread ||= needsReread(h, change);
            return applyChange(h, change);
          }),
        );
        qc.setQueryData(trpc.hosts.get.queryKey({ hostId: change.hostId }), (old) => {
          if (!old) return old;
          reread ||= needsReread(old, change);
          return applyChange(old, change);
        });
        if (!known || reread) rereadSoon({ list: true, hostId: change.hostId });
      },
    }),
  );
  return { live: subscription.status === "pending" };
}
