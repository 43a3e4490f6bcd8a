// The exec terminal's WebSocket protocol, shared by the gateway
// (server/exec/terminal-server.ts) and the browser (components/exec/terminal.tsx).
// Pure constants and types: safe to import from client code.
//
//   GET /api/exec?hostId=H&containerId=C[&cmd=/bin/sh][&cols=80&rows=24]   (Upgrade: websocket)
//
// `cmd` may be repeated to give argv element by element (cmd=sh&cmd=-c&cmd=top);
// a single `cmd` is split on whitespace (cmd=/bin/bash -l). Default: /bin/sh.
//
// Browser → gateway
//   binary frame   stdin bytes, written to the exec's TTY as they are.
//   text frame     a control message if it is JSON starting with `{"type"`:
//                    {"type":"resize","cols":N,"rows":N}
//                  any other text frame is stdin (UTF-8). Clients should send
//                  stdin as binary frames so typed text can never be mistaken
//                  for a control message; ours does.
// Gateway → browser
//   binary frame   terminal output (raw TTY bytes).
//   text frame     JSON control messages:
//                    {"type":"ready"}                       the exec is running
//                    {"type":"exit","code":N|null}          the exec ended (null: unknown); the gateway then closes (1000)
//                    {"type":"error","message":"…"}         the exec could not start or broke; the gateway then closes (1011)
//
// Closing the WebSocket ends the exec (the agent kills the process).
// Refusals happen before the upgrade, as plain HTTP: 400 bad query, 401 not
// signed in, 403 cross-origin or missing containers.exec on the host.

export const EXEC_PATH = "/api/exec";
/** Largest WebSocket message the gateway accepts (stdin pastes are chunked by the client below this). */
export const EXEC_MAX_MESSAGE_BYTES = 64 * 1024;
export const EXEC_MAX_COLS = 1000;
export const EXEC_MAX_ROWS = 1000;
export const EXEC_DEFAULT_CMD = "/bin/sh";

export type ExecClientControl = { type: "resize"; cols: number; rows: number };

export type ExecServerControl = { type: "ready" } | { type: "exit"; code: number | null } | { type: "error"; message: string };

/** Whether a text frame is meant as a control message (rather than stdin). */
export function looksLikeControl(text: string): boolean {
  return /^\{\s*"type"\s*:/.test(text);
}
