import "server-only";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Duplex } from "node:stream";
import { writeAudit } from "../audit/write";
import { ANONYMOUS_ACTOR, type Actor, type AuditOutcome, type RequestMeta } from "../audit/types";
import { canOnHost, type HostRef } from "../auth/access";
import { syncAccessGeneration } from "../auth/generation";
import { PERMISSIONS, type Permission } from "../../lib/permissions";
import { db as defaultDb, type Db } from "../db";
import { isFleetError } from "../fleet/errors";
import { getFleet } from "../fleet/instance";
import { drainRefused } from "../http/drain-refused";
import { drainCap } from "../http/limited-request";
import { CONFINEMENT_HEADER, type Confinement, encodeConfinement } from "../../lib/confinement";
import type { ImageProvenance } from "../../lib/image-provenance";
import { jsonDepthProblem } from "../http/json-depth";
import { PolicyDeniedError } from "../../lib/policy/check";
import { judgeDeploy, resolvedImageOf } from "../policy/gate";
import { RateLimiter } from "../pipeline/rate-limit";
import { MASK } from "../services/deploy/secrets";
import { getPolicy } from "../services/policy/policies";
import { bearerToken, displayPrefix, hashTokenSecret } from "../tokens/format";
import { authenticateToken, type TokenAuthentication, type TokenRefusal, type TokenViewer } from "../tokens/viewer-for-token";
import { ShortCache } from "../pipeline/short-cache";
import { createBodyToSpec, type TranslatedCreate } from "./create-spec";
import { ExecOwners } from "./exec-owners";
import { parseNetworkCreate } from "./network-create";
import { imageTargetsOf, imageTargetViolations } from "./image-targets";
import { matchEndpoint, queryFlag, type EndpointMatch } from "./endpoints";
import { readResponseHead } from "../http/response-head";
import { checkedAgentPath, isDockerProxyUrl, parseProxyPath, type ProxyPath } from "./paths";
import {
  forwardedRequestHeaders,
  forwardedResponseHeaders,
  readBodyFromSocket,
  sendError,
  sendRawError,
  upgradeRequestHead,
} from "./wire";

// The Docker-API proxy: `/api/docker/<host>/…` on the gateway's own HTTP
// server (hooked in server/main.ts before Next), so the stock docker CLI works
// against the gateway with an API token:
//
//   token → rate limit → strict path → endpoint table (allowlist) → host and
//   permission → deploy policy for create → one agent stream over SSH
//
// Everything refused is refused before the agent is contacted, answered as
// Docker answers errors ({"message"}), and audited with the token as the actor;
// every mutation is audited with its outcome. Hijacked calls (attach, exec
// start with `Upgrade: tcp`) arrive as Node 'upgrade' events and are spliced
// byte for byte; the rest goes through Node's HTTP client over the stream.
//
// This module runs in server/main.ts's module graph, not Next's bundle: errors
// from shared modules are compared by name, never with instanceof.

/** What the proxy needs of the fleet: a byte stream to a host's agent. */
export interface ProxyFleet {
  connection(hostId: string): { openAgentStream(): Promise<Duplex> };
}

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

/** Per token: 20 requests a second, bursts of 40 (the REST API's rate, counted separately). */
export const PROXY_TOKEN_RATE = { perSecond: 20, burst: 40 } as const;
/**
 * Failed authentications per client address: past this rate they are answered
 * 429 without a database lookup (and audited as one summary per second).
 */
export const AUTH_FAILURE_RATE = { perSecond: 2, burst: 20 } as const;
const MAX_BLOCKED_IPS = 10_000;
/** Opening a stream to the agent: a host that is down fails at once (the fleet doesn't wait); this bounds a stuck channel. */
const OPEN_TIMEOUT_MS = 10_000;
/** The first answer to a hijack (101) comes at once; attach/exec output follows without a deadline. */
const HIJACK_HEAD_TIMEOUT_MS = 30_000;
const BODY_TIMEOUT_MS = 30_000;
/** Kept of an error answer or of a progress stream's tail, for the audit record's message. */
const ERROR_SNIPPET_BYTES = 4096;
/** A container inspect answer is read whole (to mask secrets) up to this size. */
const INSPECT_MAX_BYTES = 8 * 1024 * 1024;
/** An exec create answer ({"Id": …}) is read whole up to this size. */
const EXEC_CREATE_MAX_BYTES = 64 * 1024;

const REFUSALS: Record<TokenRefusal, string> = {
  unknown: "invalid API token",
  expired: "this API token has expired",
  revoked: "this API token has been revoked",
  ownerDisabled: "the owner of this API token is disabled",
};

const HOST_PERMISSIONS = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => PERMISSIONS[p].scope === "host");

interface HostRow extends HostRef {
  name: string;
}

/** A request that passed authentication, the path, the endpoint table and the permission check. */
interface Approved {
  meta: RequestMeta;
  viewer: TokenViewer;
  host: HostRow;
  path: ProxyPath;
  /** The request target sent to the agent: checked to route exactly as `path` and `query` were judged. */
  agentPath: string;
  query: URLSearchParams;
  match: EndpointMatch;
  /** Audit params: method, endpoint, and what the call asks for. */
  params: Record<string, unknown>;
  target: { type: string; id: string | null } | null;
  /** A create's limits from the deploy policy, sent to the agent with it. */
  confinement?: Confinement;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome: AuditOutcome = "denied",
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "Refusal";
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** The message of a Docker error body, or the text. */
function dockerMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500);
}

/** The last error in a JSON progress stream (pull, push, build), if any. */
function progressError(tail: string): string | null {
  const lines = tail.split(/\r?\n/).filter((l) => l.includes('"error'));
  for (const line of lines.reverse()) {
    try {
      const parsed = JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } };
      const message = parsed.errorDetail?.message ?? parsed.error;
      if (typeof message === "string") return message;
    } catch {
      // a partial line at the start of the tail
    }
  }
  return null;
}

export function createDockerProxy(options: DockerProxyOptions): DockerProxy {
  const getDb = options.db ?? defaultDb;
  const fleetOf = options.fleet ?? (getFleet as () => Promise<{ fleet: ProxyFleet }>);
  const log = options.log ?? ((line: string) => console.error(`[berth] docker proxy: ${line}`));
  const tokenRate = options.tokenRate ?? PROXY_TOKEN_RATE;
  const tokens = new RateLimiter(tokenRate);
  const authFailures = new RateLimiter(AUTH_FAILURE_RATE);
  /** Addresses over the failure rate, until when: their next requests are answered 429 without a lookup. */
  const blockedIps = new Map<string, number>();
  function blockIp(key: string, retryAfterSeconds: number): void {
    if (blockedIps.size >= MAX_BLOCKED_IPS) {
      const now = Date.now();
      for (const [k, until] of blockedIps) if (until <= now) blockedIps.delete(k);
      for (const k of blockedIps.keys()) {
        if (blockedIps.size < MAX_BLOCKED_IPS) break;
        blockedIps.delete(k);
      }
    }
    blockedIps.set(key, Date.now() + retryAfterSeconds * 1000);
  }
  // Authentications and host lookups remembered for at most 1 s, dropped at once on any access change.
  const viewers = new ShortCache<TokenViewer>();
  const hostsByRef = new ShortCache<HostRow>();
  const hijacked = new Set<{ close(): void; done: Promise<void> }>();
  /** Forwarded plain requests still open (logs -f, events, pull progress, wait…), ended on shutdown too. */
  const streams = new Set<{ close(): void; done: Promise<void> }>();
  /** Exec id → who created it through the proxy, and on which host. */
  const execOwners = new ExecOwners();
  /** The request headers of an upgraded socket, for forwarding (set in handleUpgrade). */
  const requestHeadersOf = new WeakMap<Duplex, http.IncomingHttpHeaders>();
  let closing = false;

  async function audit(meta: RequestMeta, record: { actor: Actor; action: string; outcome: AuditOutcome; params: Record<string, unknown>; errorMessage?: string | null; hostId?: string | null; target?: { type: string; id?: string | null } | null }) {
    try {
      await writeAudit(getDb(), { ...record, request: meta });
    } catch (e) {
      log(`audit write failed for ${record.action} (request ${meta.requestId}): ${messageOf(e)}`);
    }
  }

  async function findHost(ref: string): Promise<HostRow | null> {
    const known = hostsByRef.get(ref);
    if (known) return known;
    const generation = hostsByRef.generation();
    const rows = await getDb().host.findMany({ where: { OR: [{ id: ref }, { name: ref }] }, select: { id: true, name: true, hostGroupId: true }, take: 2 });
    const host = rows.find((h) => h.id === ref) ?? rows[0] ?? null;
    if (host) hostsByRef.set(ref, host, generation);
    return host;
  }

  async function authenticate(secret: string, meta: RequestMeta): Promise<TokenAuthentication> {
    // One primary-key read: a change made by another process or in SQL drops what is remembered, before it is used.
    await syncAccessGeneration(getDb());
    const key = hashTokenSecret(secret);
    const known = viewers.get(key);
    if (known) return { ok: true, viewer: known };
    const generation = viewers.generation();
    const result = await authenticateToken(getDb(), secret, meta);
    if (result.ok) viewers.set(key, result.viewer, generation, result.viewer.token.expiresAt?.getTime() ?? null);
    return result;
  }

  /**
   * Steps 1–5: who, how often, which path, which endpoint, which host and
   * whether the token may. Throws Refusal (already audited) when not.
   */
  async function approve(req: http.IncomingMessage, meta: RequestMeta, upgrade: boolean): Promise<Approved> {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const parsedPath = parseProxyPath(rawUrl);
    const base = { method, path: rawUrl.split("?")[0]!.slice(0, 300) };
    const ipKey = `ip:${meta.ip ?? "unknown"}`;

    // 0. An address that keeps failing to authenticate is answered 429 before anything is looked up.
    let charged = false;
    const until = blockedIps.get(ipKey);
    if (until !== undefined) {
      if (Date.now() < until) {
        const decision = authFailures.take(ipKey);
        if (!decision.ok) {
          const message = `too many failed authentications from this address: ${AUTH_FAILURE_RATE.perSecond} a second, bursts of ${AUTH_FAILURE_RATE.burst}; retry in ${decision.retryAfterSeconds} s`;
          blockedIps.set(ipKey, Date.now() + decision.retryAfterSeconds * 1000);
          if (decision.report) {
            await audit(meta, { actor: ANONYMOUS_ACTOR, action: "docker.auth", outcome: "denied", params: { ...base, refused: decision.report.refused }, errorMessage: `${message} (${decision.report.refused} attempts from this address summarised)` });
          }
          throw new Refusal(429, message, "denied", { "retry-after": String(decision.retryAfterSeconds) });
        }
        // Let through: this attempt is already paid for.
        charged = true;
      }
      blockedIps.delete(ipKey);
    }

    // 1. The bearer token, before anything else is looked up.
    const header = req.headers.authorization;
    const secret = bearerToken(header);
    const auth = secret ? await authenticate(secret, meta) : null;
    if (!auth?.ok) {
      const reason = !header ? "no bearer token" : !secret ? "malformed bearer token" : `token ${auth!.reason}`;
      const decision = charged ? ({ ok: true } as const) : authFailures.take(ipKey);
      if (!decision.ok) blockIp(ipKey, decision.retryAfterSeconds);
      if (decision.ok || decision.report) {
        await audit(meta, {
          actor: auth?.actor ?? ANONYMOUS_ACTOR,
          action: "docker.auth",
          outcome: "denied",
          params: { ...base, ...(secret ? { prefix: displayPrefix(secret) } : {}), ...(decision.ok ? {} : { refused: decision.report!.refused }) },
          errorMessage: decision.ok ? reason : `${reason} (${decision.report!.refused} failed attempts from this address summarised)`,
        });
      }
      const message = !header
        ? 'authentication required: send a Berth API token (in ~/.docker/config.json: "HttpHeaders": {"Authorization": "Bearer berth_…"})'
        : auth
          ? REFUSALS[auth.reason]
          : "malformed Authorization header: expected Bearer berth_…";
      throw new Refusal(401, message, "denied", { "www-authenticate": 'Bearer realm="berth"' });
    }
    const viewer = auth.viewer;
    const deny = async (status: number, message: string, extra: { hostId?: string | null; params?: Record<string, unknown>; action?: string; headers?: Record<string, string> } = {}): Promise<never> => {
      await audit(meta, {
        actor: viewer.actor,
        action: extra.action ?? "docker.request",
        outcome: "denied",
        params: { ...base, ...extra.params },
        errorMessage: message,
        hostId: extra.hostId ?? null,
      });
      throw new Refusal(status, message, "denied", extra.headers);
    };

    // 2. How often.
    const rate = tokens.take(`token:${viewer.token.id}`);
    if (!rate.ok) {
      const message = `too many requests for this API token: ${tokenRate.perSecond} a second, bursts of ${tokenRate.burst}; retry in ${rate.retryAfterSeconds} s`;
      if (rate.report) await deny(429, message, { params: { refused: rate.report.refused }, headers: { "retry-after": String(rate.retryAfterSeconds) } });
      throw new Refusal(429, message, "denied", { "retry-after": String(rate.retryAfterSeconds) });
    }

    // 3. The path, strictly.
    if (!parsedPath.ok) return deny(400, `invalid request path: ${parsedPath.message}`);
    const path = parsedPath.value;
    const query = new URLSearchParams(path.search);
    // What the agent will route (it parses with new URL()) must be what is judged below.
    const agentPath = checkedAgentPath(path);
    if (agentPath === null) return deny(400, "invalid request path: the agent would not route it as written");

    // 4. The endpoint table: what isn't there never reaches the agent.
    const match = matchEndpoint(method, path.path, query);
    if (!match) return deny(403, `endpoint not available through the Berth Docker-API proxy: ${method} ${path.path}`);
    const { endpoint } = match;
    if (upgrade && endpoint.kind !== "attach" && endpoint.kind !== "execStart") {
      return deny(400, `${endpoint.route} can't be upgraded to a raw stream`, { action: endpoint.action });
    }

    // 5. The host, and the token's permissions on it.
    const host = await findHost(path.hostRef);
    const mayUseHost = host !== null && HOST_PERMISSIONS.some((p) => canOnHost(viewer, p, host));
    if (!host || !mayUseHost) return deny(403, `not allowed by Berth: no host "${path.hostRef}" that this token may use`, { action: endpoint.action });
    const missing = match.permissions.filter((p) => !canOnHost(viewer, p, host));
    const id = match.params[0] ?? null;
    const target = endpoint.target ? { type: endpoint.target, id: id ? id.slice(0, 256) : null } : null;
    const params: Record<string, unknown> = { method, endpoint: endpoint.route, ...(path.apiVersion ? { apiVersion: path.apiVersion } : {}), ...(id ? { [endpoint.target ?? "id"]: id.slice(0, 256) } : {}) };
    if (endpoint.action === "docker.images.pull") {
      params.image = [query.get("fromImage"), query.get("tag")].filter(Boolean).join(":") || query.get("fromSrc") || null;
    }
    if (endpoint.kind === "attach") params.stdin = queryFlag(query, "stdin");
    if (missing.length) {
      return deny(403, `not allowed by Berth: needs ${missing.join(", ")} on host ${host.name}`, { hostId: host.id, params, action: endpoint.action });
    }
    // An exec may be started, resized or read only by the user who created it through the proxy, on that host.
    if (endpoint.target === "exec" && id !== null && !execOwners.owns(id, { userId: viewer.user.id, hostId: host.id })) {
      return deny(403, `not allowed by Berth: exec ${id.slice(0, 80)} was not created through the Berth Docker-API proxy by this user on host ${host.name}`, { hostId: host.id, params, action: endpoint.action });
    }
    return { meta, viewer, host, path, agentPath, query, match, params, target };
  }

  /** Reads a whole request body under the cap (the declared length was checked already). */
  function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      let over = false;
      req.on("data", (c: Buffer) => {
        total += c.length;
        if (over) {
          if (total > drainCap(options.maxBodyBytes)) req.destroy();
          return;
        }
        if (total > options.maxBodyBytes) {
          over = true;
          return;
        }
        chunks.push(c);
      });
      req.once("end", () => (over ? reject(new Refusal(413, `request body is larger than ${options.maxBodyBytes} bytes`)) : resolve(Buffer.concat(chunks))));
      req.once("error", reject);
    });
  }

  /**
   * Policy for create: the spec the body asks for, judged by the one gate as
   * every other path is (the image by what the host resolves it to); the
   * verdict's confinement goes to the agent with the create.
   */
  async function judge(a: Approved, translated: TranslatedCreate): Promise<void> {
    Object.assign(a.params, translated.summary);
    const verdict = await judgeDeploy({
      db: getDb(),
      viewer: a.viewer,
      host: a.host,
      spec: translated.spec,
      override: false,
      overrideOffered: false,
      image: async (ref) => {
        try {
          const answer = await agentJson(a, `/images/${encodeURIComponent(ref)}/json`, false);
          if (answer.status === 404) return null;
          return answer.status === 200 ? resolvedImageOf(answer.body as { Id: string; BerthProvenance?: ImageProvenance }) : undefined;
        } catch {
          return undefined;
        }
      },
    });
    a.confinement = verdict.confinement;
    const violations = [...verdict.violations, ...translated.extraViolations(verdict.policy)];
    if (violations.length) {
      a.params.violations = violations.map((v) => ({ rule: v.rule, message: v.message }));
      // The rules by name (as every path words it), then what each says, for the CLI user who sees only this.
      const message = `${new PolicyDeniedError(violations).message} ${violations.map((v) => v.message).join("; ")}`;
      await audit(a.meta, { actor: a.viewer.actor, action: a.match.endpoint.action, outcome: "denied", params: a.params, errorMessage: message, hostId: a.host.id, target: a.target });
      throw new Refusal(403, `${message} (Berth's deploy policy for host ${a.host.name}; an override is not available through the Docker-API proxy)`, "denied");
    }
  }

  /** Tag, build, commit, import and load give images names: under a registry allowlist those names are judged too. */
  async function judgeImageTargets(a: Approved): Promise<void> {
    const targets = imageTargetsOf(a.match.endpoint.action, a.query);
    if (!targets) return;
    if (targets.kind === "names" && targets.names.length) a.params.imageNames = targets.names.slice(0, 32);
    const policy = await getPolicy(getDb(), a.host.hostGroupId);
    const violations = imageTargetViolations(targets, policy);
    if (!violations.length) return;
    a.params.violations = violations.map((v) => ({ rule: v.rule, message: v.message }));
    const message = `Denied by the deploy policy: ${violations.map((v) => v.message).join("; ")}`;
    await audit(a.meta, { actor: a.viewer.actor, action: a.match.endpoint.action, outcome: "denied", params: a.params, errorMessage: message, hostId: a.host.id, target: a.target });
    throw new Refusal(403, `${message} (Berth's deploy policy for host ${a.host.name})`, "denied");
  }

  async function openRaw(a: Approved): Promise<Duplex> {
    const { fleet } = await fleetOf();
    const stream = await withTimeout(fleet.connection(a.host.id).openAgentStream(), OPEN_TIMEOUT_MS, `no channel to the agent within ${OPEN_TIMEOUT_MS / 1000} s`);
    stream.on("error", () => {});
    return stream;
  }

  async function openStream(a: Approved): Promise<Duplex> {
    try {
      return await openRaw(a);
    } catch (e) {
      const why = messageOf(e);
      const status = isFleetError(e) && e.code === "AGENT_UNREACHABLE" ? 502 : 503;
      const message = `host ${a.host.name} can't be reached through Berth: ${why}`;
      if (a.match.endpoint.mutation) {
        await audit(a.meta, { actor: a.viewer.actor, action: a.match.endpoint.action, outcome: "error", params: a.params, errorMessage: message, hostId: a.host.id, target: a.target });
      }
      throw new Refusal(status, message, "error");
    }
  }

  /** One whole JSON answer from the agent (an exec after it ends), bounded in size and time. */
  async function agentJson(a: Approved, path: string, audited = true): Promise<{ status: number; body: unknown }> {
    const stream = audited ? await openStream(a) : await openRaw(a);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stream.destroy();
        fn();
      };
      const r = http.request({ method: "GET", path: `/v1.43${path}`, createConnection: () => stream as never, headers: { host: "api.moby.localhost" } });
      const timer = setTimeout(() => {
        r.destroy();
        settle(() => reject(new Error("the agent did not answer in time")));
      }, 10_000);
      r.once("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size <= 4 * 1024 * 1024) chunks.push(c);
        });
        res.once("end", () =>
          settle(() => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // left as text
            }
            resolve({ status: res.statusCode ?? 0, body });
          }),
        );
        res.once("close", () => settle(() => reject(new Error("the agent's answer broke off"))));
      });
      r.once("error", (e) => settle(() => reject(e)));
      r.end();
    });
  }

  /**
   * `docker attach` / `run -i` with stdin writes to the container's process as an exec does: recorded as a
   * session, containers.attach.start when it begins (or is refused by the host) and containers.attach.end.
   */
  function auditAttach(a: Approved, phase: "start" | "end", outcome: AuditOutcome, extra: Record<string, unknown> = {}, errorMessage: string | null = null): Promise<void> {
    return audit(a.meta, {
      actor: a.viewer.actor,
      action: `containers.attach.${phase}`,
      outcome,
      params: { ...a.params, container: a.match.params[0], stdin: true, via: "docker-proxy", ...extra },
      errorMessage,
      hostId: a.host.id,
      target: a.target,
    });
  }

  async function auditExecEnd(a: Approved, execId: string, started: number, closedBy: string): Promise<void> {
    let exitCode: number | null = null;
    let containerId: string | null = null;
    try {
      const inspect = await agentJson(a, `/exec/${encodeURIComponent(execId)}/json`, false);
      const body = inspect.body as { ExitCode?: unknown; ContainerID?: unknown };
      if (inspect.status === 200 && typeof body.ExitCode === "number") exitCode = body.ExitCode;
      if (inspect.status === 200 && typeof body.ContainerID === "string") containerId = body.ContainerID;
    } catch {
      // The end is recorded without an exit code.
    }
    await audit(a.meta, {
      actor: a.viewer.actor,
      action: "containers.exec.end",
      outcome: "success",
      params: { ...a.params, execId, ...(containerId ? { containerId } : {}), exitCode, durationMs: Date.now() - started, closedBy, via: "docker-proxy" },
      hostId: a.host.id,
      target: containerId ? { type: "container", id: containerId } : a.target,
    });
  }

  /** What a request's body says that the audit should show (exec's command, a start's detach), and the body to forward. */
  async function prepareBody(a: Approved, body: Buffer | null): Promise<Buffer | null> {
    const kind = a.match.endpoint.kind;
    if (kind !== "create" && kind !== "execCreate" && kind !== "execStart" && kind !== "volumeCreate" && kind !== "networkCreate") return body;
    let parsed: unknown = {};
    if (body && body.length) {
      const text = body.toString("utf8");
      const tooDeep = jsonDepthProblem(text);
      if (tooDeep) throw new Refusal(400, `invalid JSON in the request body: ${tooDeep}`, "error");
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new Refusal(400, `invalid JSON in the request body: ${messageOf(e)}`, "error");
      }
    } else if (kind === "create" || kind === "execCreate" || kind === "networkCreate") {
      throw new Refusal(400, "invalid body: expected a JSON object", "error");
    }
    const fail = (e: unknown): never => {
      if (e instanceof Error && e.name === "CreateBodyError") throw new Refusal(400, e.message, "error");
      throw e;
    };
    if (kind === "create") {
      let translated: TranslatedCreate;
      try {
        translated = createBodyToSpec(parsed, a.query.get("name"));
      } catch (e) {
        return fail(e);
      }
      await judge(a, translated);
      // The body judged is the body sent: re-encoded, so duplicate keys or odd encodings can't differ between readers.
      return Buffer.from(JSON.stringify(parsed));
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Refusal(400, "invalid body: expected a JSON object", "error");
    const o = parsed as Record<string, unknown>;
    if (kind === "networkCreate") {
      if (typeof o.Name === "string") a.params.name = o.Name.slice(0, 256);
      const network = parseNetworkCreate(parsed);
      if (!network.ok) throw new Refusal(400, network.message, "error");
      a.params.driver = network.value.Driver || "bridge";
      if (network.value.Internal) a.params.internal = true;
      const subnets = (network.value.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean);
      if (subnets.length) a.params.subnets = subnets;
      // What was checked is what is sent.
      return Buffer.from(JSON.stringify(network.value));
    }
    if (kind === "volumeCreate") {
      if (typeof o.Name === "string") a.params.name = o.Name.slice(0, 256);
      // The local driver's options (type=none,o=bind,device=/etc) mount host paths the bind-mount allowlist never sees.
      const driver = typeof o.Driver === "string" ? o.Driver : "";
      const opts = o.DriverOpts && typeof o.DriverOpts === "object" ? Object.keys(o.DriverOpts) : [];
      if ((driver !== "" && driver !== "local") || opts.length) {
        throw new Refusal(400, "not allowed through the Berth Docker-API proxy: volume drivers and driver options (--driver, --opt)", "error");
      }
      return Buffer.from(JSON.stringify(parsed));
    }
    if (kind === "execCreate") {
      a.params.cmd = Array.isArray(o.Cmd) ? o.Cmd.slice(0, 64) : o.Cmd ?? null;
      if (o.Privileged === true) a.params.privileged = true;
      if (typeof o.User === "string" && o.User) a.params.user = o.User;
      if (o.Tty === true) a.params.tty = true;
      // An exec inherits the container's privileges; asking for more is `--privileged`, judged as at create.
      if (o.Privileged === true) {
        const policy = await getPolicy(getDb(), a.host.hostGroupId);
        if (!policy.allowPrivileged) {
          const message = 'Denied by the deploy policy: Allow privileged containers (a privileged exec) — rule "Allow privileged containers".';
          await audit(a.meta, { actor: a.viewer.actor, action: a.match.endpoint.action, outcome: "denied", params: a.params, errorMessage: message, hostId: a.host.id, target: a.target });
          throw new Refusal(403, message, "denied");
        }
      }
    } else {
      if (o.Detach === true) a.params.detach = true;
      if (o.Tty === true) a.params.tty = true;
    }
    return body;
  }

  function auditOutcome(status: number): AuditOutcome {
    return status < 400 ? "success" : status === 401 || status === 403 ? "denied" : "error";
  }

  // -------------------------------------------------------------------------
  // Plain requests: Node's HTTP client over the agent stream.

  async function serveRequest(req: http.IncomingMessage, res: http.ServerResponse, meta: RequestMeta): Promise<void> {
    let approved: Approved | null = null;
    try {
      approved = await approve(req, meta, false);
      const a = approved;
      const declared = Number(req.headers["content-length"] ?? "0");
      const chunked = /chunked/i.test(String(req.headers["transfer-encoding"] ?? ""));
      if (declared > options.maxBodyBytes) {
        // Read and drop what the client is sending (bounded) so it reads the answer.
        if (declared <= drainCap(options.maxBodyBytes)) req.resume();
        else res.setHeader("connection", "close");
        throw new Refusal(413, `request body is larger than ${options.maxBodyBytes} bytes`);
      }
      await judgeImageTargets(a);
      const kind = a.match.endpoint.kind;
      const buffered = kind === "create" || kind === "execCreate" || kind === "execStart" || kind === "volumeCreate" || kind === "networkCreate";
      let body: Buffer | null = null;
      if (buffered) body = await prepareBody(a, await readBody(req));
      const stream = await openStream(a);
      if (closing) {
        stream.destroy();
        throw new Refusal(503, "the gateway is shutting down", "error");
      }
      forward(req, res, a, stream, body, buffered ? false : declared > 0 || chunked);
    } catch (e) {
      if (e instanceof Refusal) {
        if (e.status === 413 && approved) {
          await audit(meta, { actor: approved.viewer.actor, action: approved.match.endpoint.action, outcome: "denied", params: approved.params, errorMessage: e.message, hostId: approved.host.id, target: approved.target });
        } else if (e.outcome === "error" && approved?.match.endpoint.mutation && e.status < 500) {
          await audit(meta, { actor: approved.viewer.actor, action: approved.match.endpoint.action, outcome: "error", params: approved.params, errorMessage: e.message, hostId: approved.host.id, target: approved.target });
        }
        // A body not read yet is drained up to the cap at most, then the connection is closed.
        if (e.status !== 413) drainRefused(req, res, drainCap(options.maxBodyBytes));
        return sendError(res, e.status, e.message, e.headers);
      }
      log(`request ${meta.requestId} failed: ${messageOf(e)}`);
      if (approved?.match.endpoint.mutation) {
        await audit(meta, { actor: approved.viewer.actor, action: approved.match.endpoint.action, outcome: "error", params: approved.params, errorMessage: "internal error", hostId: approved.host.id, target: approved.target });
      }
      sendError(res, 500, `internal error in the Berth gateway (request id ${meta.requestId})`);
    }
  }

  /** Names of a deployment's secret env variables for a container on the host (by its id, or its deployment's name). */
  async function secretEnvNames(hostId: string, containerId: string, containerName: string): Promise<Set<string>> {
    const rows = await getDb().deployment.findMany({
      where: { hostId, OR: [{ containerId }, ...(containerName ? [{ name: containerName }] : [])] },
      select: { spec: true },
    });
    const names = new Set<string>();
    for (const row of rows) for (const e of (row.spec as { env?: { name?: unknown; secret?: unknown }[] } | null)?.env ?? []) if (e.secret === true && typeof e.name === "string") names.add(e.name);
    return names;
  }

  /**
   * GET /containers/{id}/json: read whole (bounded), then a deployment's secret
   * env values are masked as the console and the REST API mask them.
   * Anything that can't be read as an inspect answer is not passed on.
   */
  function sendMaskedInspect(a: Approved, ares: http.IncomingMessage, res: http.ServerResponse, done: () => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    ares.on("data", (c: Buffer) => {
      size += c.length;
      if (size > INSPECT_MAX_BYTES) over = true;
      else chunks.push(c);
    });
    ares.once("error", () => {
      if (!res.headersSent) sendError(res, 502, `host ${a.host.name}: the agent's answer broke off`);
      done();
    });
    ares.once("end", () => {
      void (async () => {
        try {
          if (over) throw new Error(`the agent's inspect answer is larger than ${INSPECT_MAX_BYTES} bytes`);
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Id?: unknown; Name?: unknown; Config?: { Env?: unknown } | null };
          const id = typeof body.Id === "string" ? body.Id : "";
          const name = typeof body.Name === "string" ? body.Name.replace(/^\//, "") : "";
          const env = body.Config?.Env;
          if (Array.isArray(env) && env.length) {
            const secret = await secretEnvNames(a.host.id, id, name);
            if (secret.size) {
              body.Config!.Env = env.map((kv) => {
                if (typeof kv !== "string") return kv;
                const n = kv.split("=", 1)[0]!;
                return secret.has(n) ? `${n}=${MASK}` : kv;
              });
            }
          }
          const out = Buffer.from(JSON.stringify(body));
          const headers = forwardedResponseHeaders(ares.headers);
          delete headers["content-length"];
          res.writeHead(200, { ...headers, "content-type": "application/json", "content-length": out.length });
          res.end(out);
        } catch (e) {
          log(`inspect ${a.meta.requestId} not passed on: ${messageOf(e)}`);
          if (!res.headersSent) sendError(res, 502, `host ${a.host.name}: the agent's inspect answer could not be read`);
          else res.destroy();
        } finally {
          done();
        }
      })();
    });
  }

  function forward(req: http.IncomingMessage, res: http.ServerResponse, a: Approved, stream: Duplex, body: Buffer | null, streamBody: boolean): void {
    const endpoint = a.match.endpoint;
    const headers: Record<string, string | string[] | number> = { ...forwardedRequestHeaders(req.headers), host: "api.moby.localhost" };
    if (a.confinement) headers[CONFINEMENT_HEADER] = encodeConfinement(a.confinement);
    if (body) headers["content-length"] = body.length;
    else if (streamBody && req.headers["content-length"]) headers["content-length"] = req.headers["content-length"];
    const agentReq = http.request({ method: req.method, path: a.agentPath, headers, createConnection: () => stream as never });
    const started = Date.now();
    let done = false;
    let status = 0;
    let snippet = "";
    const isExecStart = endpoint.kind === "execStart";
    const isStdinAttach = endpoint.kind === "attach" && a.params.stdin === true;
    const keepSnippet = endpoint.mutation || isExecStart || isStdinAttach;
    /** An attach with stdin answered 2xx: its start was recorded; its end is recorded when it closes. */
    let attachRunning = false;
    /** An attached exec (not detached) answered 200: its start was recorded as it began; its end is recorded below. */
    let execRunning = false;
    let shutdown = false;
    let markDone = () => {};
    const entry = {
      close: () => {
        shutdown = true;
        agentReq.destroy();
        res.destroy();
      },
      done: new Promise<void>((resolve) => (markDone = resolve)),
    };
    streams.add(entry);
    const finish = (outcome: AuditOutcome | null, errorMessage: string | null, closedByWhom: string) => {
      if (done) return;
      done = true;
      streams.delete(entry);
      const closedBy = shutdown ? "shutdown" : closedByWhom;
      if (shutdown && outcome !== null && status === 0) errorMessage = "the gateway shut down";
      stream.destroy();
      // Shutdown waits for the record (entry.done) before the database goes.
      const recorded = ((): Promise<void> => {
        if (isStdinAttach && outcome !== null) {
          return attachRunning ? auditAttach(a, "end", "success", { status, durationMs: Date.now() - started, closedBy }) : auditAttach(a, "start", outcome, { status }, errorMessage);
        }
        if (!endpoint.mutation || outcome === null) return Promise.resolve();
        if (execRunning) return auditExecEnd(a, a.match.params[0]!, started, closedBy);
        return audit(a.meta, {
          actor: a.viewer.actor,
          action: endpoint.action,
          outcome,
          params: { ...a.params, status, ...(isExecStart ? { via: "docker-proxy" } : {}), ...(shutdown ? { closedBy } : {}) },
          errorMessage,
          hostId: a.host.id,
          target: a.target,
        });
      })();
      void recorded.finally(markDone);
    };
    agentReq.once("response", (ares) => {
      status = ares.statusCode ?? 502;
      if (endpoint.kind === "containerInspect" && status === 200) return void sendMaskedInspect(a, ares, res, () => finish(null, null, "process"));
      if (endpoint.kind === "execCreate") {
        // Read whole (it is small) so the exec is on record as this user's before the client can start it.
        const chunks: Buffer[] = [];
        let size = 0;
        ares.on("data", (c: Buffer) => {
          size += c.length;
          if (size <= EXEC_CREATE_MAX_BYTES) chunks.push(c);
        });
        ares.once("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          snippet = text.slice(-ERROR_SNIPPET_BYTES);
          if (status < 300 && size <= EXEC_CREATE_MAX_BYTES) {
            try {
              const id = (JSON.parse(text) as { Id?: unknown }).Id;
              if (typeof id === "string" && id) {
                execOwners.record(id, { userId: a.viewer.user.id, hostId: a.host.id });
                a.params.execId = id;
              }
            } catch {
              // not JSON: nothing to record (a later start of it is refused)
            }
          }
          const headers = forwardedResponseHeaders(ares.headers);
          delete headers["content-length"];
          const out = size <= EXEC_CREATE_MAX_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0);
          res.writeHead(status, { ...headers, "content-length": out.length });
          res.end(out);
          finish(status >= 400 ? auditOutcome(status) : "success", status >= 400 ? dockerMessage(snippet) : null, "process");
        });
        ares.once("error", () => {
          res.destroy();
          finish("error", "the agent's answer broke off", "agent");
        });
        return;
      }
      const out = forwardedResponseHeaders(ares.headers);
      res.writeHead(status, out);
      if (ares.headers["content-length"] === undefined) res.flushHeaders();
      if (isStdinAttach && status < 300) {
        attachRunning = true;
        void auditAttach(a, "start", "success", { status });
      }
      if (isExecStart && status < 300 && !a.params.detach) {
        execRunning = true;
        void audit(a.meta, { actor: a.viewer.actor, action: endpoint.action, outcome: "success", params: { ...a.params, status, execId: a.match.params[0], via: "docker-proxy" }, hostId: a.host.id, target: a.target });
      }
      ares.on("data", (c: Buffer) => {
        if (keepSnippet) snippet = (snippet + c.toString("utf8")).slice(-ERROR_SNIPPET_BYTES);
        if (!res.write(c)) {
          ares.pause();
          res.once("drain", () => ares.resume());
        }
      });
      ares.once("end", () => {
        res.end();
        const progress = status < 400 && /json/.test(String(ares.headers["content-type"] ?? "")) ? progressError(snippet) : null;
        finish(status >= 400 ? auditOutcome(status) : progress ? "error" : "success", status >= 400 ? dockerMessage(snippet) : progress, "process");
      });
      ares.once("error", () => {
        res.destroy();
        finish("error", "the agent's answer broke off", "agent");
      });
    });
    agentReq.once("error", (e) => {
      if (!res.headersSent) sendError(res, 502, `host ${a.host.name}: the agent connection failed: ${e.message}`);
      else res.destroy();
      finish("error", `agent connection failed: ${e.message}`, "agent");
    });
    // The client went away (logs -f, events, a pull interrupted): the agent stream goes too.
    res.once("close", () => {
      if (!res.writableFinished) {
        agentReq.destroy();
        finish(status ? (status >= 400 ? auditOutcome(status) : "success") : "error", status ? null : "the client disconnected", "client");
      }
    });

    if (body) return void agentReq.end(body);
    if (!streamBody) return void agentReq.end();
    // A streamed body (build context, image load/import): capped as it goes.
    let total = 0;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (total > options.maxBodyBytes) {
        req.unpipe();
        agentReq.destroy();
        if (!res.headersSent) sendError(res, 413, `request body is larger than ${options.maxBodyBytes} bytes`, { connection: "close" });
        else res.destroy();
        finish("denied", `request body is larger than ${options.maxBodyBytes} bytes`, "client");
        req.destroy();
        return;
      }
      if (!agentReq.write(c)) {
        req.pause();
        agentReq.once("drain", () => req.resume());
      }
    });
    req.once("end", () => agentReq.end());
  }

  // -------------------------------------------------------------------------
  // Hijacked requests (attach, exec start): raw bytes both ways.

  async function serveUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, meta: RequestMeta): Promise<void> {
    let approved: Approved | null = null;
    try {
      approved = await approve(req, meta, true);
      const a = approved;
      if (closing) throw new Refusal(503, "the gateway is shutting down", "error");
      const declared = Number(req.headers["content-length"] ?? "0");
      if (!Number.isSafeInteger(declared) || declared < 0) throw new Refusal(400, "invalid Content-Length", "error");
      if (declared > options.maxBodyBytes) throw new Refusal(413, `request body is larger than ${options.maxBodyBytes} bytes`);
      const { body, extra } = await readBodyFromSocket(socket, head, declared, BODY_TIMEOUT_MS).catch((e: unknown) => {
        throw new Refusal(400, messageOf(e), "error");
      });
      const forwardedBody = (await prepareBody(a, body)) ?? Buffer.alloc(0);
      const stream = await openStream(a);
      await splice(socket, stream, a, forwardedBody, extra);
    } catch (e) {
      if (e instanceof Refusal) {
        if (approved && (e.status === 413 || (e.outcome === "error" && approved.match.endpoint.mutation && e.status < 500))) {
          await audit(meta, { actor: approved.viewer.actor, action: approved.match.endpoint.action, outcome: e.status === 413 ? "denied" : "error", params: approved.params, errorMessage: e.message, hostId: approved.host.id, target: approved.target });
        }
        return sendRawError(socket, e.status, e.message, e.headers);
      }
      log(`upgrade ${meta.requestId} failed: ${messageOf(e)}`);
      sendRawError(socket, 500, `internal error in the Berth gateway (request id ${meta.requestId})`);
    }
  }

  async function splice(socket: Duplex, stream: Duplex, a: Approved, body: Buffer, extra: Buffer): Promise<void> {
    const endpoint = a.match.endpoint;
    const forwardHeaders = forwardedRequestHeaders(requestHeadersOf.get(socket) ?? {});
    stream.write(Buffer.concat([upgradeRequestHead("POST", a.agentPath, forwardHeaders, body.length), body]));
    let answer;
    try {
      answer = await readResponseHead(stream, HIJACK_HEAD_TIMEOUT_MS);
    } catch (e) {
      stream.destroy();
      const message = `host ${a.host.name}: the agent did not answer: ${messageOf(e)}`;
      if (endpoint.mutation) await audit(a.meta, { actor: a.viewer.actor, action: endpoint.action, outcome: "error", params: a.params, errorMessage: message, hostId: a.host.id, target: a.target });
      return sendRawError(socket, 502, message);
    }
    const upgraded = answer.status === 101 || answer.status === 200;
    const isStdinAttach = endpoint.kind === "attach" && a.params.stdin === true;
    const started = Date.now();
    // The agent's answer goes to the client as it came, then the raw stream both ways.
    socket.write(Buffer.concat([answer.raw, answer.rest]));
    if (extra.length) stream.write(extra);
    let closedBy = "process";
    let finished = false;
    let markDone = () => {};
    const entry = {
      close: () => {
        closedBy = "shutdown";
        stream.destroy();
        socket.destroy();
      },
      done: new Promise<void>((resolve) => (markDone = resolve)),
    };
    hijacked.add(entry);

    if (!upgraded) {
      // An error answer (no such container, not running…): pass it on and close.
      let text = answer.rest.toString("utf8");
      stream.on("data", (c: Buffer) => {
        text = (text + c.toString("utf8")).slice(0, ERROR_SNIPPET_BYTES);
        socket.write(c);
      });
      const end = () => {
        if (finished) return;
        finished = true;
        socket.end();
        stream.destroy();
        hijacked.delete(entry);
        const body = text.slice(text.indexOf("{"));
        if (isStdinAttach) return void auditAttach(a, "start", auditOutcome(answer.status), { status: answer.status }, dockerMessage(body)).finally(markDone);
        void (endpoint.mutation
          ? audit(a.meta, { actor: a.viewer.actor, action: endpoint.action, outcome: auditOutcome(answer.status), params: { ...a.params, status: answer.status }, errorMessage: dockerMessage(body), hostId: a.host.id, target: a.target })
          : Promise.resolve()
        ).finally(markDone);
      };
      stream.once("end", end);
      stream.once("close", end);
      stream.resume();
      return;
    }

    if (endpoint.kind === "execStart") {
      void audit(a.meta, { actor: a.viewer.actor, action: endpoint.action, outcome: "success", params: { ...a.params, execId: a.match.params[0], via: "docker-proxy" }, hostId: a.host.id, target: a.target });
    }
    if (isStdinAttach) void auditAttach(a, "start", "success", { status: answer.status });
    // Half-closes travel: the CLI closes its write side when stdin ends, and output keeps coming.
    socket.on("data", (c: Buffer) => {
      if (!stream.write(c)) {
        socket.pause();
        stream.once("drain", () => socket.resume());
      }
    });
    socket.once("end", () => {
      if (closedBy === "process") closedBy = "client";
      stream.end();
    });
    stream.on("data", (c: Buffer) => {
      if (!socket.write(c)) {
        stream.pause();
        socket.once("drain", () => stream.resume());
      }
    });
    const end = () => {
      if (finished) return;
      finished = true;
      socket.end();
      // A client that doesn't close its side after ours is dropped shortly after.
      setTimeout(() => socket.destroy(), 5_000).unref();
      stream.destroy();
      hijacked.delete(entry);
      const after =
        endpoint.kind === "execStart"
          ? auditExecEnd(a, a.match.params[0]!, started, closedBy)
          : isStdinAttach
            ? auditAttach(a, "end", "success", { durationMs: Date.now() - started, closedBy })
            : Promise.resolve();
      void after.finally(markDone);
    };
    stream.once("end", end);
    stream.once("close", end);
    socket.once("close", () => {
      if (!finished) {
        closedBy = closedBy === "shutdown" ? closedBy : "client";
        stream.destroy();
      }
    });
    socket.on("error", () => {});
    stream.resume();
    socket.resume();
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
        log(`request ${requestId} failed: ${messageOf(e)}`);
        sendError(res, 500, `internal error in the Berth gateway (request id ${requestId})`);
      });
      return true;
    },
    handleUpgrade(req, socket, head) {
      if (!isDockerProxyUrl(req.url)) return false;
      socket.on("error", () => {});
      const requestId = randomUUID();
      requestHeadersOf.set(socket, req.headers);
      serveUpgrade(req, socket, head, metaOf(req, requestId)).catch((e: unknown) => {
        log(`upgrade ${requestId} failed: ${messageOf(e)}`);
        socket.destroy();
      });
      return true;
    },
    async closeAll(timeoutMs = 5_000) {
      closing = true;
      const open = [...hijacked, ...streams];
      if (open.length) log(`shutdown: ending ${open.length} open stream(s) (${hijacked.size} hijacked, ${streams.size} plain)`);
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
