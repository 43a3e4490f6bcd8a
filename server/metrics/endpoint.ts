import "server-only";
import type http from "node:http";
import type { RequestMeta } from "../audit/types";
import { db as defaultDb, type Db } from "../db";
import { type AppErrorCode, isAppError } from "../errors";
import type { Fleet } from "../fleet/fleet";
import { getFleet } from "../fleet/instance";
import { HTTP_STATUS } from "../http/status";
import { isAudited } from "../pipeline/audit-log";
import { createTokenPipeline, type TokenPipeline, type TokenWording } from "../pipeline/token-pipeline";
import { gatewayMetrics } from "./registry";
import { buildScrapeRegistry, type ScrapeState } from "./scrape";
import { gatherScrapeState } from "./state";

// GET /metrics: the Prometheus text exposition format (version 0.0.4), served
// by the gateway's own HTTP server before Next (server/gateway.ts). One use
// of the token pipeline:
//
//   bearer API token → rate limit per token → metrics.read → scrape
//
// No token or a bad one: 401; a token without metrics.read: 403; too many
// scrapes: 429; every refusal audited as "metrics.scrape" (successful
// scrapes are reads, and aren't). The body is the gateway's own registry
// (registry.ts) followed by the series built for this scrape (scrape.ts).

export const METRICS_PATH = "/metrics";
export const METRICS_ACTION = "metrics.scrape";
/** What Prometheus expects of the text format (prom-client's Registry.PROMETHEUS_CONTENT_TYPE). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Per client address: failed authentications audited one by one up to a burst, then summarised once a second. */
const AUTH_FAILURE_AUDIT = { perSecond: 2, burst: 20 } as const;

export interface MetricsEndpointOptions {
  clientIp: (req: http.IncomingMessage) => string;
  /** Scrapes per token (a refill rate per second and the burst a token may spend at once). */
  rate: { perSecond: number; burst: number };
  db?: () => Db;
  fleet?: () => Promise<Fleet | null>;
  log?: (line: string) => void;
}

export interface MetricsEndpoint {
  /** Answers GET/HEAD /metrics; false for any other path. */
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): boolean;
}

function wording(rate: { perSecond: number; burst: number }): TokenWording {
  return {
    missing: "Send an API token holding metrics.read: Authorization: Bearer berth_…",
    malformed: "Malformed Authorization header: expected Bearer berth_…",
    refusals: {
      unknown: "Invalid API token.",
      expired: "This API token has expired.",
      revoked: "This API token has been revoked.",
      ownerDisabled: "The owner of this API token is disabled.",
    },
    tooManyRequests: (s) => `Too many scrapes for this token; retry in ${s} s.`,
    rateLimitAudit: (refused) => `rate limit: ${rate.perSecond} scrapes a second, bursts of ${rate.burst} (${refused} refused since the last record)`,
    tooManyFailures: (s) => `Too many failed authentications from this address; retry in ${s} s.`,
  };
}

/** The exposition text: the gateway's own metrics, then this scrape's hosts, containers and alerts. */
export async function renderMetrics(state: ScrapeState): Promise<string> {
  const own = await gatewayMetrics().registry.metrics();
  const scraped = await buildScrapeRegistry(state).metrics();
  return `${own.endsWith("\n") || own === "" ? own : `${own}\n`}${scraped}`;
}

function pathnameOf(url: string | undefined): string {
  const u = url ?? "";
  const end = u.search(/[?#]/);
  return end === -1 ? u : u.slice(0, end);
}

export function createMetricsEndpoint(o: MetricsEndpointOptions): MetricsEndpoint {
  const db = o.db ?? defaultDb;
  const log = o.log ?? ((line: string) => console.error(`[berth] metrics: ${line}`));
  const fleet = o.fleet ?? (async () => (await getFleet()).fleet);
  const pipeline: TokenPipeline = createTokenPipeline({ db, log, rate: o.rate, authFailureRate: AUTH_FAILURE_AUDIT, blockFloods: false, wording: wording(o.rate) });
  // The registry exists before Next's bundle counts into it (either copy of the module creates the same one).
  gatewayMetrics();

  function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string>): void {
    if (res.headersSent) return void res.end();
    res.writeHead(status, { "cache-control": "no-store", ...headers });
    res.end(body);
  }

  function sendError(res: http.ServerResponse, e: unknown, requestId: string): void {
    const app = isAppError(e) ? e : null;
    const code: AppErrorCode = app && app.code in HTTP_STATUS ? (app.code as AppErrorCode) : "INTERNAL";
    const message = app && code !== "INTERNAL" ? app.message : `Something went wrong on the server (request id ${requestId}).`;
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (code === "UNAUTHORIZED") headers["www-authenticate"] = app?.details.invalidToken ? 'Bearer realm="berth", error="invalid_token"' : 'Bearer realm="berth"';
    if (code === "TOO_MANY_REQUESTS" && app?.details.retryAfterSeconds !== undefined) headers["retry-after"] = String(app.details.retryAfterSeconds);
    send(res, HTTP_STATUS[code], JSON.stringify({ error: { code, message, requestId } }), headers);
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, meta: RequestMeta, head: boolean): Promise<void> {
    const params = { method: req.method, path: METRICS_PATH };
    try {
      const admission = await pipeline.admit({ authorization: req.headers.authorization, meta, authAction: METRICS_ACTION, rateAction: METRICS_ACTION, params });
      await admission.authorise({
        permissions: ["metrics.read"],
        message: () => "This token's owner needs the metrics.read permission to scrape /metrics.",
        denial: { action: METRICS_ACTION, params },
      });
      const body = await renderMetrics(await gatherScrapeState({ db, fleet, log }));
      send(res, 200, head ? "" : body, { "content-type": METRICS_CONTENT_TYPE });
    } catch (e) {
      if (!isAudited(e) && !isAppError(e)) log(`scrape ${meta.requestId} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      sendError(res, e, meta.requestId ?? "unknown");
    }
  }

  return {
    handleRequest(req, res, requestId) {
      if (pathnameOf(req.url) !== METRICS_PATH) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        req.resume();
        const error = { code: "METHOD_NOT_ALLOWED", message: `${req.method} is not supported here; use GET.`, requestId };
        send(res, 405, JSON.stringify({ error }), { "content-type": "application/json; charset=utf-8", allow: "GET, HEAD" });
        return true;
      }
      const meta: RequestMeta = { requestId, ip: o.clientIp(req), userAgent: typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"].slice(0, 512) : null };
      // Nothing is read from a scrape's body: let it drain.
      req.resume();
      serve(req, res, meta, req.method === "HEAD").catch((e: unknown) => {
        log(`scrape ${requestId} failed: ${e instanceof Error ? e.message : String(e)}`);
        sendError(res, e, requestId);
      });
      return true;
    },
  };
}
