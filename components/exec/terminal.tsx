"use client";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { EXEC_MAX_MESSAGE_BYTES, EXEC_PATH, type ExecClientControl, type ExecServerControl } from "@/lib/exec-protocol";

// A shell in a container: xterm.js over the gateway's /api/exec WebSocket
// (protocol in server/exec/protocol.ts). Keystrokes go as binary frames,
// resizes as JSON text frames; the terminal follows its box's size.

type Status =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "exited"; code: number | null }
  | { kind: "error"; message: string };

/** Stdin is sent in pieces well under the gateway's message limit. */
const CHUNK_BYTES = Math.floor(EXEC_MAX_MESSAGE_BYTES / 2);
const RESIZE_DEBOUNCE_MS = 100;

function describe(status: Status): string {
  switch (status.kind) {
    case "connecting":
      return "Connecting…";
    case "connected":
      return "Connected";
    case "exited":
      return status.code === null ? "Exited" : `Exited with code ${status.code}`;
    case "error":
      return `Error: ${status.message}`;
  }
}

const tone: Record<Status["kind"], string> = {
  connecting: "text-slate-500 dark:text-slate-400",
  connected: "text-emerald-700 dark:text-emerald-400",
  exited: "text-slate-700 dark:text-slate-300",
  error: "text-rose-700 dark:text-rose-400",
};

export interface ExecTerminalProps {
  hostId: string;
  containerId: string;
  /** The command to run; default /bin/sh. An array is passed as argv. */
  cmd?: string | string[];
  className?: string;
}

export function ExecTerminal({ hostId, containerId, cmd, className = "" }: ExecTerminalProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ kind: "connecting" });
  const [attempt, setAttempt] = useState(0);
  const cmdKey = JSON.stringify(cmd ?? null);

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    let disposed = false;
    let cleanup = () => {};
    setStatus({ kind: "connecting" });

    void (async () => {
      // Loaded in the browser only: xterm touches the DOM when it loads.
      const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
      if (disposed) return;
      const term = new Terminal({
        cursorBlink: true,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
        fontSize: 13,
        scrollback: 5_000,
        theme: { background: "#0f172a", foreground: "#e2e8f0" },
      });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(box);
      try {
        fit.fit();
      } catch {
        // Not laid out yet: the observer below fits it later.
      }

      const wanted = JSON.parse(cmdKey) as string | string[] | null;
      const argv = wanted === null ? [] : Array.isArray(wanted) ? wanted : [wanted];
      const params = new URLSearchParams({ hostId, containerId, cols: String(term.cols), rows: String(term.rows) });
      for (const a of argv) params.append("cmd", a);
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(`${scheme}//${window.location.host}${EXEC_PATH}?${params}`);
      ws.binaryType = "arraybuffer";
      let ended = false;

      const control = (message: ExecClientControl) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      };
      const sendBytes = (bytes: Uint8Array) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        for (let i = 0; i < bytes.length; i += CHUNK_BYTES) ws.send(bytes.subarray(i, i + CHUNK_BYTES));
      };
      const encoder = new TextEncoder();

      ws.onopen = () => control({ type: "resize", cols: term.cols, rows: term.rows });
      ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
        if (typeof event.data !== "string") {
          term.write(new Uint8Array(event.data));
          return;
        }
        let message: ExecServerControl;
        try {
          message = JSON.parse(event.data) as ExecServerControl;
        } catch {
          return;
        }
        if (message.type === "ready") {
          setStatus({ kind: "connected" });
          term.focus();
        } else if (message.type === "exit") {
          ended = true;
          setStatus({ kind: "exited", code: message.code });
        } else if (message.type === "error") {
          ended = true;
          setStatus({ kind: "error", message: message.message });
        }
      };
      ws.onclose = (event) => {
        if (ended || disposed) return;
        setStatus({
          kind: "error",
          message:
            event.code === 1006
              ? "the connection was refused or lost (signed out, no permission to exec on this host, or the gateway went away)."
              : `the connection closed (${event.code}${event.reason ? `: ${event.reason}` : ""}).`,
        });
      };

      const onData = term.onData((data) => sendBytes(encoder.encode(data)));
      // Binary input (some mouse reports) is one byte per character.
      const onBinary = term.onBinary((data) => sendBytes(Uint8Array.from(data, (ch) => ch.charCodeAt(0) & 0xff)));
      const onResize = term.onResize(({ cols, rows }) => control({ type: "resize", cols, rows }));

      let timer: ReturnType<typeof setTimeout> | undefined;
      const observer = new ResizeObserver(() => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          try {
            fit.fit();
          } catch {
            // Hidden (display: none): keep the last size.
          }
        }, RESIZE_DEBOUNCE_MS);
      });
      observer.observe(box);

      cleanup = () => {
        observer.disconnect();
        clearTimeout(timer);
        onData.dispose();
        onBinary.dispose();
        onResize.dispose();
        ws.onclose = null;
        ws.onmessage = null;
        // Closing the socket ends the exec on the host.
        ws.close();
        term.dispose();
      };
      if (disposed) cleanup();
    })().catch((e: unknown) => {
      if (!disposed) setStatus({ kind: "error", message: e instanceof Error ? e.message : String(e) });
    });

    return () => {
      disposed = true;
      cleanup();
    };
    // `cmd` is read through cmdKey: an array prop is a new object on every render.
  }, [hostId, containerId, cmdKey, attempt]);

  return (
    <div className={`flex flex-col gap-2 ${className}`}>
      <div className="flex items-center justify-between gap-3">
        <p role="status" aria-live="polite" className={`text-sm ${tone[status.kind]}`}>
          {describe(status)}
        </p>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)} disabled={status.kind === "connecting"}>
          Reconnect
        </Button>
      </div>
      <div
        ref={boxRef}
        role="group"
        aria-label="Terminal"
        className="h-96 min-h-48 w-full overflow-hidden rounded-md border border-slate-300 bg-slate-900 p-1 dark:border-slate-700"
      />
    </div>
  );
}
