import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { httpExchange } from "../../../agent/images/http-transport";

// The registry client's transport against a real HTTP server on loopback.

let server: http.Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = null;
});

async function serve(handler: http.RequestListener): Promise<{ url: (p: string) => URL; connections: () => number }> {
  let connections = 0;
  server = http.createServer(handler);
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: (p) => new URL(`http://127.0.0.1:${port}${p}`), connections: () => connections };
}

const plain = { headers: {}, idleTimeoutMs: 2_000 };

describe("httpExchange", () => {
  it("releases the connection of a HEAD answer at once: the next request reuses it", async () => {
    const s = await serve((req, res) => {
      res.writeHead(200, { "content-length": "5" });
      res.end(req.method === "HEAD" ? undefined : "hello");
    });
    const head = await httpExchange(s.url("/v2/"), { ...plain, method: "HEAD" });
    expect(head.status).toBe(200);
    const get = await httpExchange(s.url("/v2/"), { ...plain, method: "GET" });
    expect(await get.json().catch(() => "not json")).toBe("not json");
    expect(s.connections()).toBe(1);
  });

  it("a server that goes quiet mid-body fails the body stream with a timeout, never a short ending", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write("x".repeat(10));
    });
    const res = await httpExchange(s.url("/blob"), { method: "GET", headers: {}, idleTimeoutMs: 200 });
    const read = (async () => {
      let n = 0;
      for await (const c of res.body) n += (c as Buffer).length;
      return n;
    })();
    await expect(read).rejects.toThrow("timed out");
  });

  it("a request that is cut off lets go of its streamed body", async () => {
    const s = await serve((req) => req.socket.destroy());
    let i = 0;
    const body = new Readable({
      read() {
        if (i++ < 1_000) setTimeout(() => this.push(Buffer.alloc(64 * 1024)), 1);
      },
    });
    await expect(httpExchange(s.url("/upload"), { ...plain, method: "PUT", body })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(body.destroyed).toBe(true);
    expect(s.connections()).toBe(1);
  });

  it("a refused connection rejects with its code", async () => {
    const s = await serve(() => {});
    const url = s.url("/v2/");
    server!.close();
    await new Promise((r) => setTimeout(r, 20));
    await expect(httpExchange(url, { ...plain, method: "GET" })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
