import { chmod, mkdir, rm } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import type { Duplex } from "node:stream";
import type { ContainerArchive } from "../engine/archive";
import type { ContainerEngine } from "../engine/engine";
import type { ContainerIo } from "../engine/container-io";
import type { EventBus } from "../engine/events";
import type { ExecManager } from "../engine/exec";
import type { ImageService } from "../images/image-service";
import { API_VERSION } from "../version";
import { archiveRoutes } from "./archive";
import { containerRoutes } from "./containers";
import { containerUpdateRoutes } from "./container-update";
import { ApiError, INTERNAL_MESSAGE, toClientError } from "./errors";
import { distributionRoutes } from "./distribution";
import { execRoutes } from "./exec";
import { commonHeaders, compareVersions, type Ctx, MIN_API_VERSION, Router, sendError } from "./http";
import { imageRoutes } from "./images";
import { systemRoutes, type SystemInfo } from "./system";
import { networkRoutes } from "./networks";
import { commitRoutes } from "./commit";
import { buildRoutes } from "./build";
import { bulkStatsRoutes } from "./bulk-stats";
import type { BuildCache } from "../build/cache";
import { volumeRoutes } from "./volumes";
import type { NetworkManager } from "../network/manager";
import type { VolumeStore } from "../volumes/store";

// The Docker Engine API (v1.43 subset) on a unix socket. Routes answer with
// and without the /v1.xx prefix; unknown endpoints get a 404 naming them.

export interface ApiDeps {
  engine: ContainerEngine;
  io: ContainerIo;
  execs: ExecManager;
  images: ImageService;
  events: EventBus;
  network: NetworkManager;
  volumes: VolumeStore;
  /** docker cp and export. */
  archive: ContainerArchive;
  buildCache: BuildCache;
  /** Scratch space for build contexts (on the agent root's filesystem). */
  tmpDir: string;
  info: SystemInfo;
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;

export function createApi(deps: ApiDeps): http.Server {
  const router = new Router();
  systemRoutes(router, deps.engine, deps.images, deps.events, deps.info, deps.volumes);
  imageRoutes(router, deps.images, deps.engine, deps.events);
  distributionRoutes(router, deps.images);
  execRoutes(router, deps.engine, deps.execs);
  networkRoutes(router, deps.network, deps.engine);
  commitRoutes(router, deps.engine, deps.images, deps.events);
  buildRoutes(router, { engine: deps.engine, io: deps.io, images: deps.images, cache: deps.buildCache, events: deps.events, tmpDir: deps.tmpDir });
  volumeRoutes(router, deps.volumes, deps.engine);
  archiveRoutes(router, deps.archive);
  containerRoutes(router, deps.engine, deps.io, deps.images, deps.execs, deps.network, deps.volumes);
  containerUpdateRoutes(router, deps.engine);
  bulkStatsRoutes(router, deps.engine, deps.io, deps.volumes, deps.info.root);

  const handle = async (req: IncomingMessage, res: ServerResponse | null, socket: Duplex | null, head: Buffer | null) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://berth");
    } catch {
      url = new URL("http://berth/");
    }
    let pathname = url.pathname;
    let apiVersion = API_VERSION;
    const m = VERSION_PREFIX.exec(pathname);
    if (m) {
      apiVersion = m[1]!;
      pathname = m[2]!;
    }
    const ctx: Ctx = { req, res, socket, head, url, params: [], apiVersion };
    try {
      if (!URL.canParse(req.url ?? "/", "http://berth")) throw new ApiError(400, `malformed request path: ${JSON.stringify((req.url ?? "").slice(0, 200))}`);
      if (compareVersions(apiVersion, MIN_API_VERSION) < 0) throw new ApiError(400, `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      if (compareVersions(apiVersion, API_VERSION) > 0) throw new ApiError(400, `client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}`);
      const match = router.match(req.method ?? "GET", pathname);
      if (!match) throw new ApiError(404, `page not found: ${req.method} ${pathname} is not an endpoint of this engine`);
      if ("allowed" in match) throw new ApiError(405, `${req.method} is not allowed on ${pathname} (use ${match.allowed.join(", ")})`);
      ctx.params = match.params;
      await match.handler(ctx);
    } catch (e) {
      const err = toClientError(e);
      if (res) sendError(res, err);
      else if (socket && socket.writable) {
        const text = JSON.stringify({ message: err.message });
        const status = err.status === 304 ? 304 : err.status;
        socket.end(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\n` +
            Object.entries({ ...commonHeaders(), "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)), Connection: "close" })
              .map(([k, v]) => `${k}: ${v}\r\n`)
              .join("") +
            `\r\n${text}`,
        );
      }
    }
  };

  // Half-open: `docker run` without -i closes its write side at once but still reads.
  // No request timeout: image loads and build contexts can take long; the socket is root-only.
  const server = http.createServer({ allowHalfOpen: true, requestTimeout: 0 } as http.ServerOptions, (req, res) =>
    handle(req, res, null, null).catch((e: unknown) => {
      process.stderr.write(`berth-agent: request failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      if (!res.headersSent) sendError(res, new ApiError(500, INTERNAL_MESSAGE));
      else res.destroy();
    }),
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    handle(req, null, socket, head).catch(() => socket.destroy());
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  return server;
}

/** Listens on a unix socket, root-only (0660), replacing a stale socket file. */
export async function listenUnix(server: http.Server, socket: string): Promise<void> {
  await mkdir(path.dirname(socket), { recursive: true, mode: 0o700 });
  await rm(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(socket, 0o660);
}
