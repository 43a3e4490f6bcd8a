import "server-only";
import http from "node:http";
import type { Duplex } from "node:stream";
import { sendRawJson } from "../http/raw-answer";

// Small HTTP/1.1 pieces the proxy needs at the byte level: Docker-style error
// answers (on a ServerResponse or on a raw, upgraded socket), the request
// head sent to the agent for a hijack, and reading a response head.

/** Headers never forwarded to the agent: hop-by-hop ones, the credentials, and our own identity headers. */
const DROPPED_REQUEST_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "expect",
  "x-berth-request-id",
  "x-berth-client-ip",
  "x-forwarded-for",
]);

/** Hop-by-hop headers of the agent's answer, which Node sets itself towards the client. */
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]);

export function forwardedRequestHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    // x-berth-*: what the gateway tells the agent (a create's confinement) is the gateway's to set, never a client's.
    if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || name.startsWith("x-berth-")) continue;
    out[name] = value;
  }
  return out;
}

export function forwardedResponseHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_RESPONSE_HEADERS.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The docker CLI prints `message` as "Error response from daemon: <message>" when Content-Type is exactly application/json. */
export function errorBody(message: string): string {
  return JSON.stringify({ message });
}

export function sendError(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(message);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(body);
}

/** The same answer on a socket Node handed over for an upgrade; the connection is closed after it. */
export function sendRawError(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  sendRawJson(socket, status, errorBody(message), headers);
}

function headerLines(headers: Record<string, string | string[]>): string {
  let out = "";
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      // Node already refused CR/LF in header values; this is a second lock on the door.
      if (/[\r\n]/.test(v) || /[\r\n:]/.test(name)) continue;
      out += `${name}: ${v}\r\n`;
    }
  }
  return out;
}

/** The request head for a hijacked call (attach, exec start), sent with its body in one write. */
export function upgradeRequestHead(method: string, path: string, headers: Record<string, string | string[]>, bodyLength: number): Buffer {
  return Buffer.from(
    `${method} ${path} HTTP/1.1\r\n` +
      "Host: api.moby.localhost\r\n" +
      headerLines(headers) +
      `Content-Length: ${bodyLength}\r\n` +
      "Connection: Upgrade\r\n" +
      "Upgrade: tcp\r\n" +
      "\r\n",
    "latin1",
  );
}

/** Reads exactly `length` bytes (starting with `first`) from a raw socket, bounded in time. Extra bytes are returned separately. */
export function readBodyFromSocket(socket: Duplex, first: Buffer, length: number, timeoutMs: number): Promise<{ body: Buffer; extra: Buffer }> {
  if (first.length >= length) return Promise.resolve({ body: first.subarray(0, length), extra: first.subarray(length) });
  return new Promise((resolve, reject) => {
    const chunks = [first];
    let have = first.length;
    const timer = setTimeout(() => finish(new Error("the request body did not arrive in time")), timeoutMs);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= length) {
        const all = Buffer.concat(chunks);
        finish(null, { body: all.subarray(0, length), extra: all.subarray(length) });
      }
    };
    const onEnd = () => finish(new Error("the client closed before sending its body"));
    function finish(err: Error | null, value?: { body: Buffer; extra: Buffer }) {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.pause();
      if (err) reject(err);
      else resolve(value!);
    }
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.resume();
  });
}
