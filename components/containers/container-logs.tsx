"use client";
import { skipToken, useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { FormError, Input, inputClass } from "@/components/ui/field";

// A container's log: followed live (paused without losing lines), or read for
// a time range; searched with highlights; downloaded as the lines on screen.

interface Line {
  n: number;
  stream: "stdout" | "stderr" | string;
  text: string;
}

/** Lines kept on screen; older ones drop off the top. */
const MAX_LINES = 5_000;
const TAIL = 200;
const RANGE_TAIL = 10_000;

function splitFrames(frames: { stream: string; text: string }[], start: number): Line[] {
  const out: Line[] = [];
  let n = start;
  for (const f of frames) {
    const parts = f.text.replace(/\r\n/g, "\n").split("\n");
    // A frame ends with its newline: the empty piece after it is no line.
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    for (const text of parts) out.push({ n: n++, stream: f.stream, text });
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function highlight(text: string, re: RegExp | null): ReactNode {
  if (!re) return text;
  const parts = text.split(re);
  if (parts.length === 1) return text;
  // split() with one capture group alternates: text, match, text, match …
  return parts.map((part, i) =>
    i % 2 === 1 ? (
      <mark key={i} className="rounded-sm bg-amber-300 text-slate-900">
        {part}
      </mark>
    ) : (
      part
    ),
  );
}

/** A datetime-local value as unix seconds, or undefined. */
function toUnix(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export function ContainerLogs({ hostId, containerId, name }: { hostId: string; containerId: string; name: string }) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<"live" | "range">("live");
  const [timestamps, setTimestamps] = useState(false);
  const [paused, setPaused] = useState(false);
  const [lines, setLines] = useState<Line[]>([]);
  const [held, setHeld] = useState<Line[]>([]);
  const [search, setSearch] = useState("");
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [range, setRange] = useState<{ since?: number; until?: number } | null>(null);
  const [streamed, setStreamed] = useState(false);
  const counter = useRef(0);
  const pausedRef = useRef(paused);
  useEffect(() => {
    pausedRef.current = paused;
  }, [paused]);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  // Live: the last lines, then every new one. A (re)connection sends the tail again, so the view starts afresh.
  const follow = useSubscription(
    trpc.containers.follow.subscriptionOptions(mode === "live" ? { hostId, containerId, tail: TAIL, timestamps } : skipToken, {
      onStarted: () => {
        setStreamed(true);
        counter.current = 0;
        setLines([]);
        setHeld([]);
      },
      onData: (frame) => {
        const fresh = splitFrames([frame], counter.current);
        counter.current += fresh.length;
        if (pausedRef.current) setHeld((h) => [...h, ...fresh].slice(-MAX_LINES));
        else setLines((l) => [...l, ...fresh].slice(-MAX_LINES));
      },
    }),
  );

  // A time range: one read, up to RANGE_TAIL lines.
  const ranged = useQuery({
    ...trpc.containers.logs.queryOptions(mode === "range" && range ? { hostId, containerId, tail: RANGE_TAIL, timestamps, ...range } : skipToken),
    retry: false,
  });
  const rangeLines = useMemo(() => (ranged.data ? splitFrames(ranged.data, 0) : []), [ranged.data]);
  const shown = mode === "live" ? lines : rangeLines;

  const re = useMemo(() => (search ? new RegExp(`(${escapeRegExp(search)})`, "gi") : null), [search]);
  const test = useMemo(() => (search ? new RegExp(escapeRegExp(search), "i") : null), [search]);
  const matches = useMemo(() => (test ? shown.filter((l) => test.test(l.text)).length : 0), [shown, test]);
  const visible = onlyMatches && test ? shown.filter((l) => test.test(l.text)) : shown;

  // Keep the newest line in view while following, unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current && mode === "live" && !paused) el.scrollTop = el.scrollHeight;
  }, [visible.length, mode, paused]);
  useEffect(() => {
    stick.current = true;
  }, [mode]);

  const resume = () => {
    setLines((l) => [...l, ...held].slice(-MAX_LINES));
    setHeld([]);
    setPaused(false);
    stick.current = true;
  };

  const download = () => {
    const text = shown.map((l) => l.text).join("\n") + (shown.length ? "\n" : "");
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${name}-logs.txt`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };

  const rangeError = range && range.since !== undefined && range.until !== undefined && range.until < range.since ? "“Until” is before “since”." : null;

  return (
    <Card
      title={
        <span className="flex items-center gap-2">
          Logs
          {mode === "live" ? (
            <span className="text-xs font-normal text-slate-500" data-testid="logs-status">
              {follow.status === "pending"
                ? paused
                  ? `⏸ paused${held.length ? ` · ${held.length} new` : ""}`
                  : "● following"
                : follow.status === "error"
                  ? "stopped"
                  : follow.status === "idle" && streamed
                    ? "■ ended: the container isn't running"
                    : "○ connecting…"}
            </span>
          ) : null}
        </span>
      }
      actions={
        <div className="flex flex-wrap items-center gap-2">
          <div role="group" aria-label="Which logs" className="inline-flex overflow-hidden rounded-md border border-slate-300 dark:border-slate-700">
            {(["live", "range"] as const).map((m) => (
              <button
                key={m}
                type="button"
                aria-pressed={mode === m}
                onClick={() => setMode(m)}
                className={`px-2.5 py-1 text-xs font-medium ${mode === m ? "bg-sky-600 text-white" : "bg-white text-slate-700 dark:bg-slate-900 dark:text-slate-200"}`}
              >
                {m === "live" ? "Live" : "Time range"}
              </button>
            ))}
          </div>
          {mode === "live" ? (
            <Button variant="secondary" size="xs" onClick={() => (paused ? resume() : setPaused(true))}>
              {paused ? "Follow" : "Pause"}
            </Button>
          ) : null}
          <Button variant="secondary" size="xs" disabled={shown.length === 0} onClick={download}>
            Download .txt
          </Button>
        </div>
      }
    >
      <div className="space-y-3">
        <div className="flex flex-wrap items-end gap-3">
          <label className="min-w-48 flex-1 space-y-1">
            <span className="text-xs font-medium text-slate-600 dark:text-slate-400">Search</span>
            <Input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Text to highlight" />
          </label>
          <label className="flex items-center gap-1.5 pb-2 text-sm">
            <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.target.checked)} />
            Only matching lines
          </label>
          <label className="flex items-center gap-1.5 pb-2 text-sm">
            <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} />
            Timestamps
          </label>
          {search ? (
            <span className="pb-2 text-xs text-slate-500" data-testid="logs-matches">
              {matches} matching line{matches === 1 ? "" : "s"}
            </span>
          ) : null}
        </div>

        {mode === "range" ? (
          <form
            className="flex flex-wrap items-end gap-3"
            aria-label="Time range"
            onSubmit={(e) => {
              e.preventDefault();
              setRange({ since: toUnix(since), until: toUnix(until) });
            }}
          >
            <label className="space-y-1">
              <span className="block text-xs font-medium text-slate-600 dark:text-slate-400">Since</span>
              <input type="datetime-local" step={1} className={inputClass} value={since} onChange={(e) => setSince(e.target.value)} />
            </label>
            <label className="space-y-1">
              <span className="block text-xs font-medium text-slate-600 dark:text-slate-400">Until</span>
              <input type="datetime-local" step={1} className={inputClass} value={until} onChange={(e) => setUntil(e.target.value)} />
            </label>
            <Button type="submit" variant="secondary">
              Show
            </Button>
            <span className="pb-2 text-xs text-slate-500">Empty: from the start / up to now. At most {RANGE_TAIL.toLocaleString()} lines (the newest).</span>
          </form>
        ) : null}

        {mode === "live" && follow.error ? <FormError message={errorMessage(follow.error)} /> : null}
        {mode === "range" && ranged.error ? <FormError message={errorMessage(ranged.error)} /> : null}
        {rangeError ? <FormError message={rangeError} /> : null}

        <div
          ref={box}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
          className="h-[28rem] overflow-auto rounded-md border border-slate-300 bg-slate-950 p-2 font-mono text-xs leading-5 text-slate-100 dark:border-slate-700"
          role="log"
          aria-label="Log lines"
          aria-live="off"
          data-testid="log-lines"
        >
          {visible.length === 0 ? (
            <p className="text-slate-400">
              {mode === "range" && !range
                ? "Choose a range and press Show."
                : mode === "range" && ranged.isFetching
                  ? "Reading…"
                  : onlyMatches && search
                    ? "No line matches."
                    : "No log lines yet."}
            </p>
          ) : (
            visible.map((l) => (
              <div key={l.n} className={`whitespace-pre-wrap break-all ${l.stream === "stderr" ? "text-rose-300" : ""}`} data-stream={l.stream}>
                {highlight(l.text, re)}
              </div>
            ))
          )}
        </div>
        <p className="text-xs text-slate-500">
          {shown.length.toLocaleString()} line{shown.length === 1 ? "" : "s"} loaded
          {mode === "live" ? ` (the last ${TAIL} at first, then live; at most ${MAX_LINES.toLocaleString()} kept)` : ""}. stderr is shown in red.
        </p>
      </div>
    </Card>
  );
}
