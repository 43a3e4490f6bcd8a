import "server-only";
import http from "node:http";
import type { Duplex } from "node:stream";
import { readResponseHead, ResponseHeadError, type ResponseHead } from "../../http/response-head";
import { FleetError } from "../errors";
import type { OpenStream } from "./client";

// An interactive `docker exec -it` on a container through a fleet host: the
// exec is created with a TTY, then started on a hijacked connection (the
// agent answers `POST /exec/{id}/start` with `Connection: Upgrade` by
// `HTTP/1.1 101 UPGRADED`, after which the stream carries raw TTY bytes both
// ways). Resizes and the exit code are small requests of their own, each on
// its own agent stream (as the agent client does).

const API = "/v1.43";
const DEFAULT_TIMEOUT_MS = 10_000;
/** Error bodies are short JSON messages; never buffer more than this. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** After the stream ends, how long the agent may take to report the process's exit. */
const EXIT_POLL_MS = 200;
const EXIT_POLLS = 25;

export interface ExecOptions {
  cmd: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  /** The terminal's initial size. */
  cols?: number;
  rows?: number;
  /** For creating and starting the exec (not for the session, which has no deadline). */
  timeoutMs?: number;
}

/** The fleet, as far as an exec needs it. */
export interface ExecFleet {
  connection(hostId: string): { openAgentStream(): Promise<Duplex>; target: { name: string } };
}

/** Opens an interactive exec in `containerId` on a fleet host. */
export function openExecSession(fleet: ExecFleet, hostId: string, containerId: string, options: ExecOptions): Promise<ExecSession> {
  let label = hostId;
  try {
    label = fleet.connection(hostId).target.name;
  } catch {
    // Not connected: the first open below says so.
  }
  return ExecSession.open(() => fleet.connection(hostId).openAgentStream(), label, containerId, options);
}

interface Answer {
  status: number;
  body: Buffer;
}

export class ExecSession {
  private constructor(
    private readonly open: OpenStream,
    private readonly label: string,
    /** The agent's exec id. */
    readonly id: string,
    /** Raw TTY bytes: write keystrokes, read the terminal's output. Handed over paused: call resume() once listening. */
    readonly stream: Duplex,
  ) {}

  static async open(open: OpenStream, label: string, containerId: string, o: ExecOptions): Promise<ExecSession> {
    if (!o.cmd.length) throw new FleetError("AGENT_ERROR", "No command to run.", { status: 400 });
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const size = o.rows && o.cols ? [o.rows, o.cols] : null;
    const created = await request(open, label, "POST", `/containers/${encodeURIComponent(containerId)}/exec`, {
      timeoutMs,
      body: {
        Cmd: o.cmd,
        Tty: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        ...(o.env?.length ? { Env: o.env } : {}),
        ...(o.user ? { User: o.user } : {}),
        ...(o.workingDir ? { WorkingDir: o.workingDir } : {}),
        ...(size ? { ConsoleSize: size } : {}),
      },
    });
    const id = parseJson<{ Id?: unknown }>(created.body)?.Id;
    if (typeof id !== "string" || !/^[A-Za-z0-9]+$/.test(id)) throw new FleetError("AGENT_ERROR", `The agent on ${label} did not return an exec id.`);
    const stream = await hijack(open, label, `${API}/exec/${id}/start`, { Detach: false, Tty: true, ...(size ? { ConsoleSize: size } : {}) }, timeoutMs);
    return new ExecSession(open, label, id, stream);
  }

  private resizing: Promise<void> | null = null;
  private wanted: { rows: number; cols: number } | null = null;

  /**
   * Resizes the exec's terminal. Calls are coalesced: while one resize is in
   * flight only the latest size is kept, so a burst costs at most two requests.
   */
  resize(rows: number, cols: number): Promise<void> {
    this.wanted = { rows, cols };
    this.resizing ??= (async () => {
      try {
        while (this.wanted) {
          const { rows: h, cols: w } = this.wanted;
          this.wanted = null;
          await request(this.open, this.label, "POST", `/exec/${this.id}/resize?h=${h}&w=${w}`, { timeoutMs: DEFAULT_TIMEOUT_MS });
        }
      } finally {
        this.resizing = null;
      }
    })();
    return this.resizing;
  }

  /** The agent's view of the exec: whether it still runs and its exit code. */
  async inspect(): Promise<{ running: boolean; exitCode: number | null }> {
    const answer = await request(this.open, this.label, "GET", `/exec/${this.id}/json`, { timeoutMs: DEFAULT_TIMEOUT_MS });
    const body = parseJson<{ Running?: unknown; ExitCode?: unknown }>(answer.body);
    return { running: body?.Running === true, exitCode: typeof body?.ExitCode === "number" ? body.ExitCode : null };
  }

  /**
   * The process's exit code, once it has exited (call after the stream ends
   * or after `close()`): null if the agent still reports it running after a
   * few seconds.
   */
  async exitCode(): Promise<number | null> {
    for (let i = 0; i < EXIT_POLLS; i++) {
      const state = await this.inspect();
      if (!state.running && state.exitCode !== null) return state.exitCode;
      await new Promise((r) => setTimeout(r, EXIT_POLL_MS));
    }
    return null;
  }

  /** Ends the session: the agent kills the process when its stream closes. */
  close(): void {
    if (!this.stream.destroyed) this.stream.destroy();
  }
}

function parseJson<T>(body: Buffer): T | null {
  try {
    return JSON.parse(body.toString("utf8")) as T;
  } catch {
    return null;
  }
}

function errorMessage(status: number, body: Buffer): string {
  const parsed = parseJson<{ message?: unknown }>(body);
  if (parsed && typeof parsed.message === "string" && parsed.message) return parsed.message;
  return body.toString("utf8").trim().slice(0, 500) || `agent answered HTTP ${status}`;
}

async function openStream(open: OpenStream, label: string, timeoutMs: number): Promise<Duplex> {
  let late = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new FleetError("TIMEOUT", `${label} did not open a channel within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  const opening = open().then(
    (stream) => {
      // One that arrives after the deadline is closed, not leaked.
      if (late) stream.destroy();
      return stream;
    },
    (e: unknown) => {
      if (e instanceof Error && e.name === "FleetError") throw e;
      throw new FleetError("AGENT_UNREACHABLE", `The agent on ${label} can't be reached: ${e instanceof Error ? e.message : String(e)}`);
    },
  );
  try {
    return await Promise.race([opening, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** One whole request/answer on its own agent stream; HTTP errors become FleetErrors. */
async function request(open: OpenStream, label: string, method: string, path: string, o: { body?: unknown; timeoutMs: number }): Promise<Answer> {
  const stream = await openStream(open, label, o.timeoutMs);
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  const answer = await new Promise<Answer>((resolve, reject) => {
    const req = http.request({
      method,
      path: `${API}${path}`,
      createConnection: () => stream as never,
      headers: { host: "berth-agent", ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      stream.destroy();
      reject(new FleetError("TIMEOUT", `The agent on ${label} did not answer ${method} ${path} within ${o.timeoutMs / 1000} s.`));
    }, o.timeoutMs);
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ERROR_BODY_BYTES) chunks.push(c);
      });
      res.once("end", () => {
        clearTimeout(timer);
        stream.destroy();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
      res.once("error", (e) => {
        clearTimeout(timer);
        stream.destroy();
        reject(new FleetError("AGENT_UNREACHABLE", `The agent on ${label} failed: ${e.message}`));
      });
    });
    req.once("error", (e) => {
      clearTimeout(timer);
      stream.destroy();
      reject(new FleetError("AGENT_UNREACHABLE", `The agent on ${label} failed: ${e.message}`));
    });
    req.end(payload);
  });
  if (answer.status >= 400) throw new FleetError("AGENT_ERROR", errorMessage(answer.status, answer.body), { status: answer.status, host: label });
  return answer;
}

/** Reads the answer's status line and headers off the raw stream; on failure the stream is destroyed. */
async function readHead(stream: Duplex, label: string, timeoutMs: number): Promise<ResponseHead> {
  try {
    return await readResponseHead(stream, timeoutMs);
  } catch (e) {
    stream.destroy();
    throw headFailure(e, label, timeoutMs);
  }
}

function headFailure(e: unknown, label: string, timeoutMs: number): FleetError {
  const kind = e instanceof ResponseHeadError ? e.kind : "stream";
  switch (kind) {
    case "timeout":
      return new FleetError("TIMEOUT", `The agent on ${label} did not start the exec within ${timeoutMs / 1000} s.`);
    case "too-large":
      return new FleetError("AGENT_ERROR", `The agent on ${label} sent an oversized answer head.`);
    case "not-http":
      return new FleetError("AGENT_ERROR", `The agent on ${label} sent a malformed answer to exec start.`);
    case "closed":
      return new FleetError("AGENT_UNREACHABLE", `The agent on ${label} closed the connection before starting the exec.`);
    default:
      return new FleetError("AGENT_UNREACHABLE", `The agent on ${label} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads an error answer's body (Content-Length bounded, or until the agent closes). */
async function readErrorBody(stream: Duplex, head: ResponseHead): Promise<Buffer> {
  const declared = Number(head.headers.get("content-length") ?? NaN);
  const want = Number.isFinite(declared) ? Math.min(declared, MAX_ERROR_BODY_BYTES) : MAX_ERROR_BODY_BYTES;
  let body: Buffer = head.rest;
  if (body.length >= want) return body.subarray(0, want);
  return new Promise<Buffer>((resolve) => {
    const timer = setTimeout(done, 5_000);
    function done() {
      clearTimeout(timer);
      stream.off("data", onData);
      resolve(body.subarray(0, want));
    }
    const onData = (c: Buffer) => {
      body = Buffer.concat([body, c]);
      if (body.length >= want) done();
    };
    stream.on("data", onData);
    stream.once("end", done);
    stream.once("close", done);
    stream.resume();
  });
}

/**
 * Sends `POST path` with `Connection: Upgrade, Upgrade: tcp` on a raw agent
 * stream and hands the stream back once the agent switched it to raw TTY
 * bytes: on `101` (what our agent, like Docker, answers to an upgrade) or a
 * `200` whose body is the raw stream (what Docker answers clients that did not
 * ask to upgrade; a chunked one is refused: it is not a raw stream).
 */
async function hijack(open: OpenStream, label: string, path: string, body: unknown, timeoutMs: number): Promise<Duplex> {
  const stream = await openStream(open, label, timeoutMs);
  stream.on("error", () => {});
  const payload = Buffer.from(JSON.stringify(body));
  // Head and body in one write: the agent takes the body from the bytes that arrive with the
  // upgrade's head, and a body it has to wait for leaves its side of the socket paused (no stdin).
  const requestHead =
    `POST ${path} HTTP/1.1\r\n` +
    "Host: berth-agent\r\n" +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${payload.length}\r\n` +
    "Connection: Upgrade\r\n" +
    "Upgrade: tcp\r\n" +
    "\r\n";
  stream.write(Buffer.concat([Buffer.from(requestHead, "latin1"), payload]));
  const head = await readHead(stream, label, timeoutMs);
  const raw = head.status === 101 || (head.status === 200 && !/chunked/i.test(head.headers.get("transfer-encoding") ?? ""));
  if (raw) {
    // The bytes that came with the head are the terminal's first output.
    if (head.rest.length) stream.unshift(head.rest);
    return stream;
  }
  const text = await readErrorBody(stream, head);
  stream.destroy();
  const status = head.status >= 400 ? head.status : 502;
  throw new FleetError("AGENT_ERROR", head.status >= 400 ? errorMessage(head.status, text) : `The agent on ${label} answered exec start with HTTP ${head.status}.`, { status, host: label });
}
