import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ambiguousApiPath, refuseAmbiguousApiPath } from "../../../server/http/dot-segments";

describe("dot segments and '#' in API request targets", () => {
  it.each([
    "/api/v1/hosts/%2e%2e/containers",
    "/api/v1/hosts/%2E%2E/containers",
    "/api/v1/hosts/%2e%2E/containers?x=1",
    "/api/v1/hosts/../containers",
    "/api/v1/hosts/./containers",
    "/api/v1/hosts/%2e/containers",
    "/api/v1/hosts/.%2e/containers",
    "/api/v1/hosts/h1/containers/..",
    "/api/v1/hosts/h1\\..\\containers",
    "/api/v1/hosts/h1/containers#/x",
    "/api/v1/hosts?q=1#frag",
    "/api/trpc/../v1/tokens",
    // Not under /api/ as written, but resolved there.
    "/x/../api/v1/hosts/%2e%2e/containers",
  ])("refuses %j", (url) => {
    expect(ambiguousApiPath(url)).not.toBeNull();
  });

  it.each([
    "/api/v1/hosts/h1/containers",
    "/api/v1/hosts/h1/containers?name=..",
    "/api/v1/hosts/h1/containers/web.1",
    "/api/v1/hosts/...x/containers",
    "/api/v1/hosts/..x/containers",
    "/api/v1/hosts/%2e%2ex/containers",
    "/api/v1/hosts/%2e%2e%2fcontainers",
    "/api/v1/images/registry.example:5000%2Fapp",
    // Outside /api/: pages are Next's to resolve.
    "/hosts/../settings",
    "/_next/static/chunks/../x.js",
    undefined,
  ])("lets %j through", (url) => {
    expect(ambiguousApiPath(url)).toBeNull();
  });

  describe("answers 404 in the REST error format", () => {
    let server: http.Server;
    let port: number;
    let nextCalls: string[] = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (refuseAmbiguousApiPath(req, res, "req-1")) return;
        nextCalls.push(req.url ?? "");
        res.end("next");
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const get = (path: string) =>
      new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
        });
        req.on("error", reject);
        req.end();
      });

    it("for /api/v1/hosts/%2e%2e/containers, and Next never sees it", async () => {
      nextCalls = [];
      const r = await get("/api/v1/hosts/%2e%2e/containers");
      expect(r.status).toBe(404);
      expect(r.type).toBe("application/json");
      expect(JSON.parse(r.body)).toEqual({ error: { code: "NOT_FOUND", message: expect.stringContaining("dot segments"), requestId: "req-1" } });
      expect(nextCalls).toEqual([]);
      const fine = await get("/api/v1/hosts/h1/containers");
      expect(fine).toMatchObject({ status: 200, body: "next" });
      expect(nextCalls).toEqual(["/api/v1/hosts/h1/containers"]);
    });
  });
});
