import "server-only";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { z } from "zod";
import type { AuditOutcome, RequestMeta } from "../audit/types";
import type { Viewer } from "../auth/access";
import { db as defaultDb, type Db } from "../db";
import { toAppError } from "../errors";
import { openExecSession, type ExecFleet, type ExecSession } from "../fleet/agent/exec-session";
import { getFleet } from "../fleet/instance";
import {
  EXEC_DEFAULT_CMD,
  EXEC_MAX_COLS,
  EXEC_MAX_MESSAGE_BYTES,
  EXEC_MAX_ROWS,
  EXEC_PATH,
  looksLikeControl,
  type ExecServerControl,
} from "../../lib/exec-protocol";
import { sendRawJson } from "../http/raw-answer";
import { HTTP_STATUS } from "../http/status";
import { judgeOrigin, type OriginSettings } from "../http/same-origin";
import { type Admission, admitSession, type Denial } from "../pipeline/admission";
import { isAudited } from "../pipeline/audit-log";
import { createHostFinder } from "../pipeline/authorise";
import { viewerFromCookie } from "../pipeline/session-cookie";

// The browser's exec terminal: a WebSocket on the gateway's own HTTP server
// (see lib/exec-protocol.ts for the wire format). One use of the gateway's
// pipeline with a session-authenticated viewer: authenticated from the
// Auth.js session cookie, refused cross-origin, authorised with
// containers.exec on the host, its intent on record before the upgrade, then
// audited at start and end. Bytes go to the agent's exec over SSH.
//
// This module runs in server/main.ts's module graph, not Next's bundle: errors
// from shared modules are compared by name, never with instanceof.

export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface ExecTerminalHandler extends UpgradeHandler {
  /**
   * For the gateway's shutdown, before it closes its HTTP server (which waits
   * for upgraded sockets): refuses new terminals, ends the open ones (their
   * execs end and are audited) and closes their sockets. Bounded by `timeoutMs`.
   */
  closeAll(timeoutMs?: number): Promise<void>;
}

/** One open terminal, for closeAll. */
interface Live {
  ws: WebSocket;
  stop(): void;
  /** Resolves when the exec has ended and been audited. */
  done: Promise<void>;
  /** Resolves when the WebSocket has closed. */
  closed: Promise<void>;
}

export interface ExecTerminalOptions {
  /** The client's address as the gateway trusts it (socket, or a trusted proxy's header). */
  clientIp?: (req: http.IncomingMessage) => string;
  /** BERTH_PUBLIC_URL, HOST and PORT: which origins are this console's (see acceptedOrigins). */
  originSettings: OriginSettings;
  db?: () => Db;
  fleet?: () => Promise<{ fleet: ExecFleet }>;
  log?: (line: string) => void;
}

const PERMISSION = "containers.exec" as const;
const START = "containers.exec.start";
/** Stdin that arrives before the exec runs is held, up to this much. */
const MAX_EARLY_INPUT_BYTES = 256 * 1024;
/** Output is paused while the browser has this much unsent. */
const OUTPUT_HIGH_WATER = 1024 * 1024;
const PING_MS = 30_000;
const MAX_ARGS = 64;
const MAX_ARG_CHARS = 1024;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const querySchema = z.object({
  hostId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "must be a host id"),
  containerId: z.string().min(1).max(128).regex(idPattern, "must be a container id or name"),
  cmd: z.array(z.string().min(1).max(MAX_ARG_CHARS)).min(1).max(MAX_ARGS),
  cols: z.coerce.number().int().min(1).max(EXEC_MAX_COLS).default(80),
  rows: z.coerce.number().int().min(1).max(EXEC_MAX_ROWS).default(24),
});

type ExecQuery = z.infer<typeof querySchema>;

/** A terminal that passed the pipeline: what to open, and for whom. */
type Approved = ExecQuery & { admission: Admission<Viewer> };

const resizeSchema = z.object({
  type: z.literal("resize"),
  cols: z.number().int().min(1).max(EXEC_MAX_COLS),
  rows: z.number().int().min(1).max(EXEC_MAX_ROWS),
});

function parseQuery(url: URL): { ok: true; value: ExecQuery } | { ok: false; message: string; partial: Record<string, unknown> } {
  const p = url.searchParams;
  const cmds = p.getAll("cmd").filter((c) => c.trim() !== "");
  const cmd = cmds.length === 0 ? [EXEC_DEFAULT_CMD] : cmds.length === 1 ? cmds[0]!.trim().split(/\s+/) : cmds;
  const raw = {
    hostId: p.get("hostId") ?? "",
    containerId: p.get("containerId") ?? "",
    cmd,
    cols: p.get("cols") || undefined,
    rows: p.get("rows") || undefined,
  };
  const parsed = querySchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    message: parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "),
    partial: { containerId: raw.containerId.slice(0, 128), cmd: cmd.slice(0, MAX_ARGS) },
  };
}

/**
 * The Origin must name this console, judged as every cookie-authenticated
 * state change is (server/http/same-origin.ts). Browsers always send Origin on
 * a WebSocket handshake, so one without it is refused.
 */
export function originAllowed(req: http.IncomingMessage, settings: OriginSettings): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  return judgeOrigin({ method: "GET", origin, secFetchSite: null, host: req.headers.host ?? null }, settings).ok;
}

/** Fails the upgrade with a plain HTTP answer. */
function refuse(socket: Duplex, status: number, message: string, requestId: string): void {
  sendRawJson(socket, status, JSON.stringify({ error: { message, requestId } }), { "x-request-id": requestId });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sendControl(ws: WebSocket, message: ExecServerControl): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

export function createExecTerminalHandler(options: ExecTerminalOptions): ExecTerminalHandler {
  const getDb = options.db ?? defaultDb;
  const fleetOf = options.fleet ?? getFleet;
  const log = options.log ?? ((line: string) => console.error(`[berth] exec: ${line}`));
  const wss = new WebSocketServer({ noServer: true, maxPayload: EXEC_MAX_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: false });
  const live = new Set<Live>();
  let closing = false;

  const context = { db: getDb, log };
  const findHost = createHostFinder(getDb, { byName: false, cache: false });

  async function authorize(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const meta: RequestMeta = {
      requestId: randomUUID(),
      ip: options.clientIp?.(req) ?? req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? null,
      userAgent: typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"] : null,
    };
    const query = parseQuery(url);
    const containerId = query.ok ? query.value.containerId : (url.searchParams.get("containerId") ?? "").slice(0, 128) || null;
    const denial: Denial = {
      action: START,
      hostId: query.ok ? query.value.hostId : (url.searchParams.get("hostId") ?? "").slice(0, 64) || null,
      target: containerId ? { type: "container", id: containerId } : null,
      params: query.ok ? { containerId: query.value.containerId, cmd: query.value.cmd } : query.partial,
    };
    let admission: Admission<Viewer | null> = admitSession(null, meta, context);
    let approved: Approved;
    try {
      admission = admitSession(await viewerFromCookie(getDb(), req.headers.cookie), meta, context);
      // CSRF: a page on another site can open a WebSocket with our cookies; only our own pages may.
      if (!originAllowed(req, options.originSettings)) throw await admission.deny("FORBIDDEN", "Cross-origin request refused: the Origin does not match this console.", denial);
      if (!admission.viewer) throw await admission.deny("UNAUTHORIZED", "Sign in first.", denial);
      if (!query.ok) throw await admission.deny("BAD_REQUEST", query.message, { ...denial, outcome: "error" });
      const host = await findHost(query.value.hostId);
      await admission.authorise({ permissions: [PERMISSION], host, message: () => `You need the ${PERMISSION} permission on this host.`, denial });
      // Opening an exec acts on the host: its intent goes on record first, or it doesn't open (503).
      const trail = admission.trail(START);
      Object.assign(trail.note, { hostId: denial.hostId, target: denial.target, params: denial.params });
      await trail.intent();
      approved = { ...query.value, admission: admission as Admission<Viewer> };
    } catch (e) {
      const refused = toAppError(e, { requestId: meta.requestId, log });
      if (refused && !isAudited(e)) await admission.record({ ...denial, outcome: "error", errorMessage: refused.message });
      if (refused) return refuse(socket, HTTP_STATUS[refused.code], refused.message, meta.requestId!);
      log(`request ${meta.requestId} failed before the upgrade: ${messageOf(e)}`);
      await admission.record({ ...denial, outcome: "error", errorMessage: "internal error before the upgrade" });
      return refuse(socket, 500, `Internal error (request id ${meta.requestId})`, meta.requestId!);
    }
    if (socket.destroyed) return;
    if (closing) return refuse(socket, 503, "The gateway is shutting down.", meta.requestId!);
    wss.handleUpgrade(req, socket, head, (ws) => void run(ws, approved));
  }

  async function run(ws: WebSocket, c: Approved): Promise<void> {
    const params = { containerId: c.containerId, cmd: c.cmd };
    const record = (action: typeof START | "containers.exec.end", outcome: AuditOutcome, extra: Record<string, unknown>, errorMessage: string | null = null) =>
      c.admission.record({ action, outcome, target: { type: "container", id: c.containerId }, hostId: c.hostId, params: { ...params, ...extra }, errorMessage });
    let session: ExecSession | null = null;
    let clientGone = false;
    let stopping = false;
    let markDone = () => {};
    const entry: Live = {
      ws,
      stop: () => {
        stopping = true;
        sendControl(ws, { type: "error", message: "The gateway is shutting down." });
        if (session) session.close();
      },
      done: new Promise<void>((resolve) => (markDone = resolve)),
      closed: new Promise<void>((resolve) => ws.once("close", () => resolve())),
    };
    live.add(entry);
    const ended = () => {
      live.delete(entry);
      markDone();
    };
    let size = { cols: c.cols, rows: c.rows };
    let sizeChanged = false;
    const early: Buffer[] = [];
    let earlyBytes = 0;

    // Liveness: a browser that vanished without a close frame is dropped.
    let alive = true;
    ws.on("pong", () => (alive = true));
    const pinger = setInterval(() => {
      if (!alive) return void ws.terminate();
      alive = false;
      ws.ping();
    }, PING_MS);
    pinger.unref();

    const writeStdin = (data: Buffer) => {
      if (!session) {
        earlyBytes += data.length;
        if (earlyBytes > MAX_EARLY_INPUT_BYTES) return void ws.close(1009, "too much input before the exec started");
        early.push(data);
        return;
      }
      const stream = session.stream;
      if (stream.destroyed || !stream.writable) return;
      if (!stream.write(data)) {
        ws.pause();
        stream.once("drain", () => ws.resume());
      }
    };

    ws.on("message", (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!isBinary) {
        const text = buf.toString("utf8");
        if (looksLikeControl(text)) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return; // A malformed control message is ignored.
          }
          const resize = resizeSchema.safeParse(parsed);
          if (!resize.success) return;
          size = { cols: resize.data.cols, rows: resize.data.rows };
          if (!session) sizeChanged = true;
          else session.resize(size.rows, size.cols).catch((e: unknown) => log(`resize of exec ${session?.id} failed: ${messageOf(e)}`));
          return;
        }
      }
      writeStdin(buf);
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      clientGone = true;
      clearInterval(pinger);
      session?.close();
    });

    const started = Date.now();
    try {
      const { fleet } = await fleetOf();
      session = await openExecSession(fleet, c.hostId, c.containerId, { cmd: c.cmd, cols: size.cols, rows: size.rows });
    } catch (e) {
      // What the host said (no such container…), but never an agent's internal error: that goes to the log.
      const known = toAppError(e, { requestId: c.admission.meta.requestId, log });
      if (!known) log(`exec for request ${c.admission.meta.requestId} failed: ${messageOf(e)}`);
      const message = known ? known.message : `Internal error (request id ${c.admission.meta.requestId})`;
      await record(START, "error", {}, message);
      sendControl(ws, { type: "error", message });
      if (ws.readyState === ws.OPEN) ws.close(1011, "exec failed");
      clearInterval(pinger);
      return ended();
    }
    const s = session;
    void record(START, "success", { execId: s.id });

    let finished = false;
    const finish = async () => {
      if (finished) return;
      finished = true;
      clearInterval(pinger);
      s.close();
      const closedBy = stopping ? "shutdown" : clientGone ? "browser" : "process";
      const exitCode = await s.exitCode().catch(() => null);
      await record("containers.exec.end", "success", { execId: s.id, exitCode, durationMs: Date.now() - started, closedBy });
      if (stopping) {
        if (ws.readyState === ws.OPEN) ws.close(1001, "gateway shutting down");
      } else {
        sendControl(ws, { type: "exit", code: exitCode });
        if (ws.readyState === ws.OPEN) ws.close(1000, "exec ended");
      }
      ended();
    };

    s.stream.on("error", (e: Error) => log(`exec ${s.id} stream failed: ${e.message}`));
    s.stream.once("end", () => void finish());
    s.stream.once("close", () => void finish());
    if (clientGone || stopping) return void finish();

    sendControl(ws, { type: "ready" });
    s.stream.on("data", (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(chunk, { binary: true }, () => {
        if (s.stream.isPaused() && ws.bufferedAmount < OUTPUT_HIGH_WATER / 2) s.stream.resume();
      });
      if (ws.bufferedAmount > OUTPUT_HIGH_WATER) s.stream.pause();
    });
    // The session hands the stream over paused (nothing is read before someone listens).
    s.stream.resume();
    if (sizeChanged) s.resize(size.rows, size.cols).catch((e: unknown) => log(`resize of exec ${s.id} failed: ${messageOf(e)}`));
    for (const chunk of early.splice(0)) writeStdin(chunk);
  }

  async function closeAll(timeoutMs = 5_000): Promise<void> {
    closing = true;
    const open = [...live];
    for (const t of open) t.stop();
    const bounded = (work: Promise<unknown>, ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        void work.finally(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    await bounded(Promise.allSettled(open.map((t) => t.done)), timeoutMs);
    // A moment for browsers to answer the close frame; then the sockets go regardless.
    await bounded(Promise.allSettled(open.map((t) => t.closed)), 1_000);
    for (const t of open) t.ws.terminate();
  }

  const handler: UpgradeHandler = (req, socket, head) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://berth");
    } catch {
      return false;
    }
    if (url.pathname !== EXEC_PATH) return false;
    socket.on("error", () => {});
    authorize(req, socket, head, url).catch((e: unknown) => {
      log(`upgrade failed: ${messageOf(e)}`);
      socket.destroy();
    });
    return true;
  };
  return Object.assign(handler, { closeAll });
}
