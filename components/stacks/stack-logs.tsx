"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { errorMessage } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { FormError, Select } from "@/components/ui/field";
import { useStacksTRPC } from "./api";
import type { StackLogLine } from "./types";

// The stack's containers' logs merged in one live view: each line tagged with
// its service (a colour per service), filtered to one service on the server,
// paused without losing lines.

const TAIL = 100;
const MAX_LINES = 5_000;

/** Colours that read on the dark log background, one per service in the stack's order. */
const COLOURS = ["text-sky-300", "text-emerald-300", "text-amber-300", "text-fuchsia-300", "text-cyan-300", "text-lime-300", "text-orange-300", "text-violet-300"];

export function serviceColour(services: string[], service: string): string {
  const i = services.indexOf(service);
  return COLOURS[(i === -1 ? services.length : i) % COLOURS.length]!;
}

interface Line extends StackLogLine {
  n: number;
}

export function StackLogs({ stackId, services }: { stackId: string; services: string[] }) {
  const api = useStacksTRPC();
  const [service, setService] = useState("");
  const [paused, setPaused] = useState(false);
  const [lines, setLines] = useState<Line[]>([]);
  const [held, setHeld] = useState<Line[]>([]);
  const counter = useRef(0);
  const pausedRef = useRef(paused);
  useEffect(() => {
    pausedRef.current = paused;
  }, [paused]);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  const follow = useSubscription(
    api.stacks.logs.subscriptionOptions(
      { stackId, tail: TAIL, ...(service ? { services: [service] } : {}) },
      {
        // A (re)connection sends the tail again: start afresh.
        onStarted: () => {
          counter.current = 0;
          setLines([]);
          setHeld([]);
        },
        onData: (l) => {
          const line = { ...l, n: counter.current++ };
          if (pausedRef.current) setHeld((h) => [...h, line].slice(-MAX_LINES));
          else setLines((ls) => [...ls, line].slice(-MAX_LINES));
        },
      },
    ),
  );

  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current && !paused) el.scrollTop = el.scrollHeight;
  }, [lines.length, paused]);

  // Another filter is another stream: what was shown belongs to the old one.
  const chooseService = (next: string) => {
    counter.current = 0;
    setLines([]);
    setHeld([]);
    setService(next);
  };

  const resume = () => {
    setLines((l) => [...l, ...held].slice(-MAX_LINES));
    setHeld([]);
    setPaused(false);
    stick.current = true;
  };

  return (
    <Card
      title={
        <span className="flex items-center gap-2">
          Logs
          <span className="text-xs font-normal text-slate-500" data-testid="logs-status">
            {follow.status === "pending"
              ? paused
                ? `⏸ paused${held.length ? ` · ${held.length} new` : ""}`
                : "● following"
              : follow.status === "error"
                ? "stopped"
                : "○ connecting…"}
          </span>
        </span>
      }
      actions={
        <div className="flex flex-wrap items-center gap-2">
          <label className="flex items-center gap-2 text-sm">
            <span className="text-slate-600 dark:text-slate-400">Service</span>
            <Select aria-label="Service" className="w-auto py-1" value={service} onChange={(e) => chooseService(e.target.value)}>
              <option value="">All services</option>
              {services.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </Select>
          </label>
          <Button variant="secondary" size="xs" onClick={() => (paused ? resume() : setPaused(true))}>
            {paused ? "Follow" : "Pause"}
          </Button>
        </div>
      }
    >
      <div className="space-y-2">
        {follow.error ? <FormError message={errorMessage(follow.error)} /> : null}
        <div
          ref={box}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
          className="h-[28rem] overflow-auto rounded-md border border-slate-300 bg-slate-950 p-2 font-mono text-xs leading-5 text-slate-100 dark:border-slate-700"
          role="log"
          aria-label="Stack log lines"
          aria-live="off"
          data-testid="stack-log-lines"
        >
          {lines.length === 0 ? (
            <p className="text-slate-400">No log lines yet.</p>
          ) : (
            lines.map((l) => (
              <div key={l.n} className="whitespace-pre-wrap break-all" data-service={l.service} data-stream={l.stream}>
                <span className={`${serviceColour(services, l.service)} mr-2`} title={l.container}>
                  {l.service} |
                </span>
                <span className={l.stream === "stderr" ? "text-rose-300" : ""}>{l.line}</span>
              </div>
            ))
          )}
        </div>
        <p className="text-xs text-slate-500">
          The last {TAIL} lines of each container at first, then live; at most {MAX_LINES.toLocaleString()} kept. stderr is shown in red.
        </p>
      </div>
    </Card>
  );
}
