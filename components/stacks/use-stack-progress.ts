"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { applyProgress, type OperationProgressState, type ProgressEvent } from "@/components/deploy/use-operation-progress";
import { useTRPC } from "@/components/trpc/client";

// A stack apply's (or roll back's) live progress, per service: the same
// operations.progress stream a single deploy uses, its events carrying the
// service they are about. Subscribe first, then start with the token.

export type StackProgressEvent = ProgressEvent & { service?: string };

export interface StackProgressState {
  /** Services in the order first reported, each with its own phases and layers. */
  services: { name: string; progress: OperationProgressState }[];
  /** Messages about the stack as a whole (networks, volumes, orphans). */
  messages: string[];
}

const EMPTY: StackProgressState = { services: [], messages: [] };
const EMPTY_SERVICE: OperationProgressState = { phase: null, phases: [], layers: [], messages: [] };
const SUBSCRIBE_WAIT_MS = 5_000;

export function applyStackProgress(state: StackProgressState, e: StackProgressEvent): StackProgressState {
  if (!e.service) return { ...state, messages: [...state.messages, e.message].filter(Boolean).slice(-100) };
  const at = state.services.findIndex((s) => s.name === e.service);
  const prev = at === -1 ? EMPTY_SERVICE : state.services[at]!.progress;
  const next = { name: e.service, progress: applyProgress(prev, e) };
  const services = at === -1 ? [...state.services, next] : state.services.map((s, i) => (i === at ? next : s));
  return { ...state, services };
}

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function useStackProgress() {
  const trpc = useTRPC();
  const [state, setState] = useState<StackProgressState>(EMPTY);
  const subscription = useRef<{ unsubscribe: () => void } | null>(null);
  useEffect(() => () => subscription.current?.unsubscribe(), []);

  const run = useCallback(
    async <T>(start: (token: string) => Promise<T>): Promise<T> => {
      subscription.current?.unsubscribe();
      setState(EMPTY);
      const token = newToken();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        subscription.current = trpc.operations.progress.subscriptionOptions({ token }).subscribe({
          onStarted: done,
          onData: (e) => setState((s) => applyStackProgress(s, e as StackProgressEvent)),
          // Progress is a view of the work: without it the apply still runs.
          onError: done,
        });
      });
      return start(token);
    },
    [trpc],
  );

  return { progress: state, run };
}
