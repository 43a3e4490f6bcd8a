import "server-only";
import http from "node:http";
import type { Duplex } from "node:stream";

/**
 * A complete JSON HTTP answer written straight to a socket Node handed over
 * for an upgrade (no ServerResponse there); the connection is closed after it.
 */
export function sendRawJson(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extra +
      "\r\n" +
      body,
  );
}
