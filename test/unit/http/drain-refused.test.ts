import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainRefused } from "../../../server/http/drain-refused";

const CAP = 256 * 1024;

describe("drainRefused: a refused request's body is read up to a cap, then the connection closes", () => {
  let server: http.Server;
  let port: number;
  let serverClosed: Promise<number> = Promise.resolve(0);
  let markClosed: (n: number) => void = () => {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let n = 0;
      req.on("data", (c: Buffer) => (n += c.length));
      req.socket.once("close", () => markClosed(n));
      drainRefused(req, res, CAP);
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "invalid API token" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("an endless chunked body: the client gets the 401 with connection: close and is cut off after about the cap", async () => {
    serverClosed = new Promise<number>((r) => (markClosed = r));
    const result = await new Promise<{ head: string; sent: number; closed: boolean }>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      let head = "";
      let sent = 0;
      let closed = false;
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
      socket.on("data", (d: Buffer) => (head += d.toString()));
      socket.on("error", () => {});
      socket.once("close", () => {
        closed = true;
        resolve({ head, sent, closed });
      });
      socket.write("POST /x HTTP/1.1\r\nhost: t\r\nauthorization: Bearer nope\r\ntransfer-encoding: chunked\r\n\r\n");
      // Bounded: at most 64 MiB, far past the cap.
      const pump = () => {
        while (!closed && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!socket.write(frame)) return void socket.once("drain", pump);
        }
        if (!closed) socket.end();
      };
      pump();
    });
    expect(result.closed).toBe(true);
    expect(result.head).toMatch(/^HTTP\/1\.1 401/);
    expect(result.head.toLowerCase()).toContain("connection: close");
    expect(result.sent).toBeLessThan(64 * 1024 * 1024);
    // The server read no more than the cap (plus what was in flight) before dropping the connection.
    const n = await serverClosed;
    expect(n).toBeLessThan(CAP + 1024 * 1024);
  });

  it("a small body is read and the answer arrives as usual", async () => {
    const r = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/x", headers: { "content-length": 5 } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      });
      req.on("error", reject);
      req.end("hello");
    });
    expect(r).toEqual({ status: 401, connection: "close" });
  });
});
