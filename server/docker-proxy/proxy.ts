import "server-only";
import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { RequestMeta } from "../audit/types";
import { db as defaultDb, type Db } from "../db";
import { AppError } from "../errors";
import { getFleet } from "../fleet/instance";
import { drainRefused } from "../http/drain-refused";
import { drainCap } from "../http/limited-request";
import { isAudited } from "../pipeline/audit-log";
import { createHostFinder } from "../pipeline/authorise";
import { createTokenPipeline } from "../pipeline/token-pipeline";
import { openAgentStream } from "./agent-link";
import { approve, AUTH_FAILURE_RATE, PROXY_TOKEN_RATE, proxyWording } from "./approve";
import { type Approved, type ProxyContext, type ProxyFleet, recordCall } from "./context";
import { auditsEveryCall } from "./endpoints";
import { type DockerAnswer, dockerAnswerOf, internalAnswer } from "./docker-errors";
import { ExecOwners } from "./exec-owners";
import { forward } from "./forward";
import { judgeImageTargets } from "./judge";
import { isDockerProxyUrl } from "./paths";
import { bodyLimitOf, isBuffered, prepareBody, readBody, tooLarge } from "./request-body";
import { splice } from "./splice";
import { readBodyFromSocket, sendError, sendRawError } from "./wire";

// The Docker-API proxy: `/api/docker/<host>/…` on the gateway's own HTTP
// server (hooked in server/gateway.ts before Next), so the stock docker CLI
// works against the gateway with an API token. Every call is one use of the
// gateway's pipeline:
//
//   approve.ts      token → rate limit (server/pipeline) → strict path →
//                   endpoint table (allowlist) → host and permission
//   judge.ts        the deploy policy, for create and whatever names images
//   (here)          audit intent of a mutation, before the agent is contacted
//   forward.ts      plain calls over one agent stream (mask-inspect.ts masks secrets)
//   splice.ts       hijacked calls (attach, exec start), byte for byte
//   (both)          audit outcome
//
// Everything refused is refused before the agent is contacted, answered as
// Docker answers errors ({"message"}, docker-errors.ts: the one mapping of
// error codes to Docker statuses), and audited with the token as the actor.
//
// This module runs in server/main.ts's module graph, not Next's bundle: errors
// from shared modules are compared by name or mark, never with instanceof.

export type { ProxyFleet } from "./context";
export { AUTH_FAILURE_RATE, PROXY_TOKEN_RATE } from "./approve";

export interface DockerProxyOptions {
  /** The client's address as the gateway trusts it. */
  clientIp: (req: http.IncomingMessage) => string;
  maxBodyBytes: number;
  /** Requests per token; PROXY_TOKEN_RATE unless given (the benchmark lifts it to measure latency back to back). */
  tokenRate?: { perSecond: number; burst: number };
  db?: () => Db;
  fleet?: () => Promise<{ fleet: ProxyFleet }>;
  log?: (line: string) => void;
}

export interface DockerProxy {
  /** Handles a request under /api/docker/; false for any other path. */
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): boolean;
  /** Handles a hijack (`Connection: Upgrade, Upgrade: tcp`) under /api/docker/; false for any other path. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** For shutdown: ends hijacked sessions (their exec ends are audited), bounded. */
  closeAll(timeoutMs?: number): Promise<void>;
}

const BODY_TIMEOUT_MS = 30_000;

export function createDockerProxy(options: DockerProxyOptions): DockerProxy {
  const db = options.db ?? defaultDb;
  const log = options.log ?? ((line: string) => console.error(`[berth] docker proxy: ${line}`));
  const rate = options.tokenRate ?? PROXY_TOKEN_RATE;
  let closing = false;
  const ctx: ProxyContext = {
    db,
    fleet: options.fleet ?? (getFleet as () => Promise<{ fleet: ProxyFleet }>),
    log,
    maxBodyBytes: options.maxBodyBytes,
    pipeline: createTokenPipeline({ db, log, rate, authFailureRate: AUTH_FAILURE_RATE, blockFloods: true, wording: proxyWording(rate) }),
    // Host lookups remembered for at most 1 s, dropped at once on any access change.
    findHost: createHostFinder(db, { byName: true, cache: true }),
    execOwners: new ExecOwners(),
    streams: new Set(),
    hijacked: new Set(),
    requestHeadersOf: new WeakMap(),
    closing: () => closing,
  };

  /**
   * A refusal or failure after approval that no step recorded: an oversized
   * body is a denial whatever the call; any other failure of a mutation is
   * recorded as its error (every mutation is on record whatever the outcome).
   */
  async function recordFailure(approved: Approved | null, e: unknown, answer: DockerAnswer | null): Promise<void> {
    if (!approved || isAudited(e)) return;
    if (answer?.status === 413) return recordCall(approved, "denied", answer.message);
    if (auditsEveryCall(approved.match.endpoint)) await recordCall(approved, "error", answer ? answer.message : "internal error");
  }

  /** The mutation's intent goes on record before the agent is contacted; if it can't, nothing is forwarded (503). */
  async function recordIntent(a: Approved): Promise<void> {
    if (auditsEveryCall(a.match.endpoint)) await a.trail.intent();
  }

  // -------------------------------------------------------------------------
  // Plain requests: Node's HTTP client over the agent stream (forward.ts).

  async function serveRequest(req: http.IncomingMessage, res: http.ServerResponse, meta: RequestMeta): Promise<void> {
    let approved: Approved | null = null;
    try {
      approved = await approve(ctx, req, meta, false);
      const a = approved;
      const declared = Number(req.headers["content-length"] ?? "0");
      const chunked = /chunked/i.test(String(req.headers["transfer-encoding"] ?? ""));
      const limit = bodyLimitOf(ctx, a);
      if (declared > limit) {
        // Read and drop what the client is sending (bounded) so it reads the answer.
        if (declared <= drainCap(options.maxBodyBytes)) req.resume();
        else res.setHeader("connection", "close");
        throw tooLarge(limit);
      }
      await judgeImageTargets(ctx, a);
      const buffered = isBuffered(a);
      const body = buffered ? await prepareBody(ctx, a, await readBody(req, options.maxBodyBytes)) : null;
      await recordIntent(a);
      const stream = await openAgentStream(ctx, a);
      if (closing) {
        stream.destroy();
        throw new AppError("UNAVAILABLE", "the gateway is shutting down");
      }
      forward(ctx, req, res, a, stream, body, buffered ? false : declared > 0 || chunked);
    } catch (e) {
      const answer = dockerAnswerOf(e, meta.requestId, log);
      if (!answer) log(`request ${meta.requestId} failed: ${e instanceof Error ? e.message : String(e)}`);
      await recordFailure(approved, e, answer);
      // A body not read yet is drained up to the cap at most, then the connection is closed.
      if (answer && answer.status !== 413) drainRefused(req, res, drainCap(options.maxBodyBytes));
      const { status, message, headers } = answer ?? internalAnswer(meta.requestId);
      sendError(res, status, message, headers);
    }
  }

  // -------------------------------------------------------------------------
  // Hijacked requests (attach, exec start): raw bytes both ways (splice.ts).

  async function serveUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, meta: RequestMeta): Promise<void> {
    let approved: Approved | null = null;
    try {
      approved = await approve(ctx, req, meta, true);
      const a = approved;
      if (closing) throw new AppError("UNAVAILABLE", "the gateway is shutting down");
      const declared = Number(req.headers["content-length"] ?? "0");
      if (!Number.isSafeInteger(declared) || declared < 0) throw new AppError("BAD_REQUEST", "invalid Content-Length");
      if (declared > options.maxBodyBytes) throw tooLarge(options.maxBodyBytes);
      const { body, extra } = await readBodyFromSocket(socket, head, declared, BODY_TIMEOUT_MS).catch((e: unknown) => {
        throw new AppError("BAD_REQUEST", e instanceof Error ? e.message : String(e));
      });
      const forwardedBody = (await prepareBody(ctx, a, body)) ?? Buffer.alloc(0);
      await recordIntent(a);
      const stream = await openAgentStream(ctx, a);
      await splice(ctx, socket, stream, a, forwardedBody, extra);
    } catch (e) {
      const answer = dockerAnswerOf(e, meta.requestId, log);
      if (!answer) log(`upgrade ${meta.requestId} failed: ${e instanceof Error ? e.message : String(e)}`);
      await recordFailure(approved, e, answer);
      const { status, message, headers } = answer ?? internalAnswer(meta.requestId);
      sendRawError(socket, status, message, headers);
    }
  }

  function metaOf(req: http.IncomingMessage, requestId: string): RequestMeta {
    return {
      requestId,
      ip: options.clientIp(req),
      userAgent: typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"].slice(0, 512) : null,
    };
  }

  return {
    handleRequest(req, res, requestId) {
      if (!isDockerProxyUrl(req.url)) return false;
      res.setHeader("x-request-id", requestId);
      serveRequest(req, res, metaOf(req, requestId)).catch((e: unknown) => {
        log(`request ${requestId} failed: ${e instanceof Error ? e.message : String(e)}`);
        sendError(res, 500, internalAnswer(requestId).message);
      });
      return true;
    },
    handleUpgrade(req, socket, head) {
      if (!isDockerProxyUrl(req.url)) return false;
      socket.on("error", () => {});
      const requestId = randomUUID();
      ctx.requestHeadersOf.set(socket, req.headers);
      serveUpgrade(req, socket, head, metaOf(req, requestId)).catch((e: unknown) => {
        log(`upgrade ${requestId} failed: ${e instanceof Error ? e.message : String(e)}`);
        socket.destroy();
      });
      return true;
    },
    async closeAll(timeoutMs = 5_000) {
      closing = true;
      const open = [...ctx.hijacked, ...ctx.streams];
      if (open.length) log(`shutdown: ending ${open.length} open stream(s) (${ctx.hijacked.size} hijacked, ${ctx.streams.size} plain)`);
      for (const h of open) h.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        void Promise.allSettled(open.map((h) => h.done)).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
