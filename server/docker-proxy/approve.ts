import "server-only";
import type http from "node:http";
import type { RequestMeta } from "../audit/types";
import type { AppErrorCode } from "../errors";
import { mayUseHost } from "../pipeline/authorise";
import type { TokenWording } from "../pipeline/token-pipeline";
import type { Approved, ProxyContext } from "./context";
import { matchEndpoint, queryFlag } from "./endpoints";
import { checkedAgentPath, parseProxyPath } from "./paths";

// Steps 1–5 of every proxied call: who (the token pipeline: authenticate →
// limit), which path (strictly), which endpoint (the table is the
// allowlist), which host and whether the token may (authorise). Everything
// refused is refused before the agent is contacted, and audited with the
// token as the actor; the error thrown is answered by the proxy's one
// mapping (docker-errors.ts).

/**
 * Per token, by default (BERTH_DOCKER_API_RATE / BERTH_DOCKER_API_BURST): 100 requests a second, bursts of 600,
 * counted apart from the REST API. Sized for docker-compose, which talks in bursts: `up -d` of a 10-service file
 * made 165 requests within 1.6 s against the agent, of 3 services 53 within 0.4 s.
 */
export const PROXY_TOKEN_RATE = { perSecond: 100, burst: 600 } as const;
/**
 * Failed authentications per client address: past this rate they are answered
 * 429 without a database lookup (and audited as one summary per second).
 */
export const AUTH_FAILURE_RATE = { perSecond: 2, burst: 20 } as const;

/** The docker CLI prints these after "Error response from daemon: ". */
export function proxyWording(rate: { perSecond: number; burst: number }): TokenWording {
  return {
    missing: 'authentication required: send a Berth API token (in ~/.docker/config.json: "HttpHeaders": {"Authorization": "Bearer berth_…"})',
    malformed: "malformed Authorization header: expected Bearer berth_…",
    refusals: {
      unknown: "invalid API token",
      expired: "this API token has expired",
      revoked: "this API token has been revoked",
      ownerDisabled: "the owner of this API token is disabled",
    },
    tooManyRequests: (s) => `too many requests for this API token: ${rate.perSecond} a second, bursts of ${rate.burst}; retry in ${s} s`,
    rateLimitAudit: (_refused, message) => message,
    tooManyFailures: (s) => `too many failed authentications from this address: ${AUTH_FAILURE_RATE.perSecond} a second, bursts of ${AUTH_FAILURE_RATE.burst}; retry in ${s} s`,
  };
}

export async function approve(ctx: ProxyContext, req: http.IncomingMessage, meta: RequestMeta, upgrade: boolean): Promise<Approved> {
  const method = req.method ?? "GET";
  const rawUrl = req.url ?? "/";
  const base = { method, path: rawUrl.split("?")[0]!.slice(0, 300) };

  // 1–2. The bearer token, before anything else is looked up; then how often.
  const admission = await ctx.pipeline.admit({ authorization: req.headers.authorization, meta, authAction: "docker.auth", rateAction: "docker.request", params: base });
  const viewer = admission.viewer;
  const deny = async (code: AppErrorCode, message: string, extra: { hostId?: string | null; params?: Record<string, unknown>; action?: string } = {}): Promise<never> => {
    throw await admission.deny(code, message, { action: extra.action ?? "docker.request", params: { ...base, ...extra.params }, hostId: extra.hostId ?? null });
  };

  // 3. The path, strictly.
  const parsedPath = parseProxyPath(rawUrl);
  if (!parsedPath.ok) return deny("BAD_REQUEST", `invalid request path: ${parsedPath.message}`);
  const path = parsedPath.value;
  const query = new URLSearchParams(path.search);
  // What the agent will route (it parses with new URL()) must be what is judged below.
  const agentPath = checkedAgentPath(path);
  if (agentPath === null) return deny("BAD_REQUEST", "invalid request path: the agent would not route it as written");

  // 4. The endpoint table: what isn't there never reaches the agent.
  const match = matchEndpoint(method, path.path, query);
  if (!match) return deny("FORBIDDEN", `endpoint not available through the Berth Docker-API proxy: ${method} ${path.path}`);
  const { endpoint } = match;
  if (upgrade && endpoint.kind !== "attach" && endpoint.kind !== "execStart") {
    return deny("BAD_REQUEST", `${endpoint.route} can't be upgraded to a raw stream`, { action: endpoint.action });
  }

  // 5. Authorise: the host, and the token's permissions on it.
  const host = await ctx.findHost(path.hostRef);
  if (!mayUseHost(viewer, host)) return deny("FORBIDDEN", `not allowed by Berth: no host "${path.hostRef}" that this token may use`, { action: endpoint.action });
  const id = match.params[0] ?? null;
  const target = endpoint.target ? { type: endpoint.target, id: id ? id.slice(0, 256) : null } : null;
  const params: Record<string, unknown> = { method, endpoint: endpoint.route, ...(path.apiVersion ? { apiVersion: path.apiVersion } : {}), ...(id ? { [endpoint.target ?? "id"]: id.slice(0, 256) } : {}) };
  if (endpoint.action === "docker.images.pull") {
    params.image = [query.get("fromImage"), query.get("tag")].filter(Boolean).join(":") || query.get("fromSrc") || null;
  }
  if (endpoint.kind === "attach") params.stdin = queryFlag(query, "stdin");
  if (/\/archive$/.test(endpoint.route)) params.path = (query.get("path") ?? "").slice(0, 1024);
  if (endpoint.kind === "archiveUpload" && queryFlag(query, "copyUIDGID")) params.copyUIDGID = true;
  const denial = { action: endpoint.action, params: { ...base, ...params }, hostId: host.id };
  await admission.authorise({ permissions: match.permissions, host, message: (missing) => `not allowed by Berth: needs ${missing.join(", ")} on host ${host.name}`, denial });
  // An exec may be started, resized or read only by the user who created it through the proxy, on that host.
  if (endpoint.target === "exec" && id !== null && !ctx.execOwners.owns(id, { userId: viewer.user.id, hostId: host.id })) {
    return deny("FORBIDDEN", `not allowed by Berth: exec ${id.slice(0, 80)} was not created through the Berth Docker-API proxy by this user on host ${host.name}`, { hostId: host.id, params, action: endpoint.action });
  }
  const trail = admission.trail(endpoint.action);
  Object.assign(trail.note, { hostId: host.id, target, params });
  return { admission, meta, viewer, host, path, agentPath, query, match, params, target, trail };
}
