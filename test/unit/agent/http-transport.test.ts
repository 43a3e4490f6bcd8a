import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { httpExchange } from "../../../agent/images/http-transport";

// The registry client's transport against a real HTTP server on loopback.

let server: http.Server | https.Server | null = null;
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
    const chunks: Buffer[] = [];
    for await (const c of get.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("hello");
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

  describe("over TLS", () => {
    // A self-signed certificate for 127.0.0.1, made by openssl for this test.
    const dir = mkdtempSync(path.join(os.tmpdir(), "berth-tls-"));
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=berth test registry", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function serveTls(): Promise<string> {
      server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ over: "tls" }));
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      return `https://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`;
    }

    it("verifies the registry's certificate: one nobody vouches for is refused", async () => {
      const url = await serveTls();
      await expect(httpExchange(new URL(url), { ...plain, method: "GET" })).rejects.toMatchObject({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    });

    it("talks to a registry whose certificate the host trusts (NODE_EXTRA_CA_CERTS, read at start: a child process)", async () => {
      const url = await serveTls();
      const script = path.join(dir, "client.mts");
      writeFileSync(
        script,
        `import { httpExchange } from ${JSON.stringify(path.resolve("agent/images/http-transport.ts"))};\n` +
          `const res = await httpExchange(new URL(${JSON.stringify(url)}), { method: "GET", headers: {}, idleTimeoutMs: 5000 });\n` +
          `const chunks = []; for await (const c of res.body) chunks.push(c);\n` +
          `console.log(res.status, Buffer.concat(chunks).toString());\n`,
      );
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["--import", "tsx", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert }, timeout: 30_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(out.trim()).toBe('200 {"over":"tls"}');
    });
  });
});
