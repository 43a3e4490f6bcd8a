"use client";
import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef, useState } from "react";
import { formatBytes } from "@/components/ui/format";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { FormError } from "@/components/ui/field";

// A long operation (pull, push) with live progress: pick a token, subscribe to
// operations.progress with it FIRST, and only once the subscription is open
// start the operation with that token. The operation's own result is what
// decides success or failure; the stream only draws the bars.

/** How long to wait for the progress stream before starting without it. */
const STREAM_START_MS = 5_000;

export interface LayerProgress {
  id: string;
  status: string;
  current?: number;
  total?: number;
  done: boolean;
}

export interface OperationState {
  running: boolean;
  /** Last phase the server reported (pull, push, done, error). */
  phase: string | null;
  message: string | null;
  layers: LayerProgress[];
  result: "done" | "error" | null;
  error: string | null;
}

const IDLE: OperationState = { running: false, phase: null, message: null, layers: [], result: null, error: null };

const LAYER_DONE = new Set(["Pull complete", "Already exists", "Pushed", "Layer already exists", "Mounted from"]);

/** A token for the progress stream. crypto.randomUUID exists only on https or localhost; a LAN address over http lacks it. */
export function newToken(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

type Event = { phase: string; message: string; layer?: { id: string; status: string; current?: number; total?: number } };

/** Docker-style streams name the tag, not a layer, in "Pulling from …" and "The push refers to …": a message, not a bar. */
function namesALayer(layer: NonNullable<Event["layer"]>): boolean {
  return !/^(Pulling from|The push refers to|Digest:|Status:)/.test(layer.status);
}

function apply(state: OperationState, e: Event): OperationState {
  let layers = state.layers;
  if (e.layer && !namesALayer(e.layer)) return { ...state, phase: e.phase, message: e.layer.status || e.message || state.message };
  if (e.layer) {
    const l = e.layer;
    const done = LAYER_DONE.has(l.status);
    const known = layers.find((x) => x.id === l.id);
    const next: LayerProgress = {
      id: l.id,
      status: l.status,
      total: l.total ?? known?.total,
      current: done ? (l.total ?? known?.total) : (l.current ?? known?.current),
      done: done || Boolean(known?.done && l.status === "Extracting"),
    };
    layers = known ? layers.map((x) => (x.id === l.id ? next : x)) : [...layers, next];
  }
  return { ...state, phase: e.phase, message: e.message || state.message, layers };
}

/** 0–100 over all layers seen; null while nothing says how far along it is. */
export function overallPercent(state: OperationState): number | null {
  if (state.result === "done") return 100;
  if (state.layers.length === 0) return null;
  const sum = state.layers.reduce((n, l) => n + (l.done ? 100 : l.total ? Math.min(100, ((l.current ?? 0) / l.total) * 100) : 0), 0);
  return Math.round(sum / state.layers.length);
}

export function useOperation() {
  const trpc = useTRPC();
  const [token, setToken] = useState<string | null>(null);
  const [state, setState] = useState<OperationState>(IDLE);
  const pending = useRef<{ token: string; run: (token: string | undefined) => Promise<unknown> } | null>(null);
  const fallback = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (fallback.current) clearTimeout(fallback.current);
    },
    [],
  );

  const launch = (withProgress: boolean) => {
    const job = pending.current;
    pending.current = null;
    if (fallback.current) clearTimeout(fallback.current);
    fallback.current = null;
    if (!job) return;
    job
      .run(withProgress ? job.token : undefined)
      .then(() => setState((s) => ({ ...s, running: false, result: "done", phase: "done", layers: s.layers.map((l) => ({ ...l, done: true, current: l.total })) })))
      .catch((e: unknown) => setState((s) => ({ ...s, running: false, result: "error", phase: "error", error: errorMessage(e) })))
      .finally(() => setToken((t) => (t === job.token ? null : t)));
  };

  useSubscription(
    trpc.operations.progress.subscriptionOptions(token ? { token } : skipToken, {
      onStarted: () => launch(true),
      onData: (e) => setState((s) => (s.running ? apply(s, e) : s)),
      // No stream (a proxy that buffers SSE, say): the operation still runs, just without bars.
      onError: () => launch(false),
    }),
  );

  return {
    state,
    /** Starts `run` once the progress stream is open; `run` gets the token to pass as progressToken. */
    start(run: (progressToken: string | undefined) => Promise<unknown>) {
      const t = newToken();
      pending.current = { token: t, run };
      setState({ ...IDLE, running: true });
      setToken(t);
      if (fallback.current) clearTimeout(fallback.current);
      fallback.current = setTimeout(() => launch(false), STREAM_START_MS);
    },
  };
}

/** The overall bar and one bar per layer, as the agent reports them. */
export function OperationProgressView({ state, label, testId }: { state: OperationState; label: string; testId?: string }) {
  if (!state.running && !state.result) return null;
  const percent = overallPercent(state);
  return (
    <div className="space-y-2 rounded-md border border-slate-200 p-3 dark:border-slate-800" data-testid={testId}>
      <div className="flex items-center justify-between gap-3 text-sm">
        <span className="font-medium">{label}</span>
        <span className="text-xs text-slate-500">{percent === null ? (state.running ? "starting…" : "") : `${percent}%`}</span>
      </div>
      {/* Without a value the bar is indeterminate: the agent hasn't said how much there is yet. */}
      <progress className="h-2 w-full" aria-label={label} max={100} {...(percent === null ? {} : { value: percent })} />
      {state.layers.length ? (
        <ul className="space-y-1" aria-label="Layers">
          {state.layers.map((l) => {
            const p = l.done ? 100 : l.total ? Math.round(((l.current ?? 0) / l.total) * 100) : null;
            return (
              <li key={l.id} className="grid grid-cols-[7rem_1fr_11rem] items-center gap-2 text-xs">
                <span className="font-mono text-slate-600 dark:text-slate-400">{l.id}</span>
                <progress className="h-1.5 w-full" aria-label={`Layer ${l.id}`} max={100} {...(p === null ? {} : { value: p })} />
                <span className="truncate text-slate-500">
                  {l.status}
                  {!l.done && l.total ? ` ${formatBytes(l.current ?? 0)} / ${formatBytes(l.total)}` : ""}
                </span>
              </li>
            );
          })}
        </ul>
      ) : null}
      {state.running && state.message ? <p className="truncate text-xs text-slate-500">{state.message}</p> : null}
      {state.result === "error" ? <FormError message={state.error} /> : null}
    </div>
  );
}
