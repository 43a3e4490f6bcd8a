"use client";
import type { inferRouterOutputs } from "@trpc/server";
import { useCallback, useEffect, useRef, useState } from "react";
import { useTRPC } from "@/components/trpc/client";
import type { AppRouter } from "@/server/routers/_app";

// A long operation's live progress (deploy, update): pick a token, subscribe to
// operations.progress with it FIRST, then start the operation with the token.

export type ProgressEvent = inferRouterOutputs<AppRouter>["operations"]["progress"] extends AsyncIterable<infer T> ? T : never;

export interface LayerState {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

export interface OperationProgressState {
  /** The phase of the newest event, or null before the first. */
  phase: ProgressEvent["phase"] | null;
  /** Phases seen, in order, each with its latest message. */
  phases: { phase: ProgressEvent["phase"]; message: string }[];
  /** Layers in the order first reported, each at its latest status. */
  layers: LayerState[];
  /** Every message without a layer (pull status lines, create, start …). */
  messages: string[];
}

const EMPTY: OperationProgressState = { phase: null, phases: [], layers: [], messages: [] };

/** How long to wait for the progress stream to open before starting without it. */
const SUBSCRIBE_WAIT_MS = 5_000;

export function applyProgress(state: OperationProgressState, e: ProgressEvent): OperationProgressState {
  // Docker's "latest: Pulling from team/app" and "Digest: …" carry an id too, but are no layer.
  const layer = e.layer && !/^(Pulling from|Digest:|Status:)/.test(e.layer.status) ? e.layer : null;
  const phases = [...state.phases];
  const last = phases[phases.length - 1];
  // A phase's headline is its last general message ("Pulling …"); layer statuses show on their bars.
  if (last?.phase === e.phase) phases[phases.length - 1] = { phase: e.phase, message: (!layer && e.message) || last.message };
  else phases.push({ phase: e.phase, message: e.message });
  let layers = state.layers;
  let messages = state.messages;
  if (layer) {
    const at = layers.findIndex((l) => l.id === layer.id);
    const prev = at === -1 ? undefined : layers[at];
    // "Pull complete" and friends carry no byte counts: keep the last ones so the bar stays full.
    const next: LayerState = {
      id: layer.id,
      status: layer.status,
      current: layer.current ?? (/complete|exists/i.test(layer.status) ? (prev?.total ?? prev?.current) : prev?.current),
      total: layer.total ?? prev?.total,
    };
    layers = at === -1 ? [...layers, next] : layers.map((l, i) => (i === at ? next : l));
  } else if (e.message) {
    messages = [...messages, e.layer ? `${e.layer.id}: ${e.message}` : e.message].slice(-200);
  }
  return { phase: e.phase, phases, layers, messages };
}

/** A random token the server accepts ([A-Za-z0-9-]{8,64}); getRandomValues works outside secure contexts too. */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function useOperationProgress() {
  return useProgressStream(EMPTY, applyProgress);
}

/**
 * The progress stream of one operation at a time, folded into a state by `apply` (a single deploy's, or a
 * stack's per service): run() subscribes under a fresh token, waits (bounded) until the stream is open, then
 * runs `start(token)`.
 */
export function useProgressStream<S>(empty: S, apply: (state: S, e: ProgressEvent) => S) {
  const trpc = useTRPC();
  const [state, setState] = useState<S>(empty);
  const subscription = useRef<{ unsubscribe: () => void } | null>(null);

  useEffect(() => () => subscription.current?.unsubscribe(), []);

  const run = useCallback(
    async <T>(start: (token: string) => Promise<T>): Promise<T> => {
      subscription.current?.unsubscribe();
      setState(empty);
      const token = newToken();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        subscription.current = trpc.operations.progress.subscriptionOptions({ token }).subscribe({
          onStarted: done,
          onData: (e) => setState((s) => apply(s, e)),
          // Progress is a view of the work, not the work: without it the operation still runs.
          onError: done,
        });
      });
      return start(token);
    },
    [trpc, empty, apply],
  );

  const reset = useCallback(() => {
    subscription.current?.unsubscribe();
    subscription.current = null;
    setState(empty);
  }, [empty]);

  return { progress: state, run, reset };
}
