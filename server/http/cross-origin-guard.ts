import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { writeAudit } from "../audit/write";
import type { RequestMeta } from "../audit/types";
import { requestMetaFrom } from "../auth/request-meta";
import type { Db } from "../db";
import { viewerFromCookie } from "../pipeline/session-cookie";
import { actorOf } from "../pipeline/audit-log";
import { drainRefused } from "./drain-refused";
import { isSafeMethod, judgeOrigin, type OriginEvidence, type OriginSettings } from "./same-origin";

// Cross-site request forgery: the session cookie goes with any request the
// browser sends to this console, including those a page on another origin of
// the same site makes it send (a form it auto-submits). So every request that
// may change state with that cookie must show it comes from the console's own
// pages (judgeOrigin). The gateway's HTTP server asks here first, for every
// request, before Next sees it: tRPC mutations, server actions (Next's own
// check refuses a mismatched Origin but lets a missing one through, and
// audits nothing), Auth.js's posts, and any state-changing route added later.
// The audit export, a GET, asks through refuseCrossOrigin in its route.
// APIs authenticated by a Bearer token (a client, not a browser, holds it)
// are not judged, nor deploy webhooks (/api/hooks: a CI job's or a
// registry's server-to-server POST, with no Origin, authenticated by the
// secret in the URL or an HMAC signature, never by the cookie). Every refusal is audited.

/** Paths only ever authenticated by a Bearer token or a webhook's secret or signature, never the session cookie. */
const TOKEN_API = /^\/api\/(?:v1|docker|hooks)(?:\/|$)/;
const PROCEDURE = /^[A-Za-z0-9_.-]{1,100}$/;
const MAX_PROCEDURES = 20;

function pathnameOf(url: string | undefined): string {
  const raw = url ?? "/";
  const end = raw.search(/[?#]/);
  return end === -1 ? raw : raw.slice(0, end);
}

/** The audit action(s) a refused request would have been: tRPC procedures by name, Auth.js posts as sign-in/out. */
export function auditActionsFor(pathname: string): string[] {
  if (pathname.startsWith("/api/trpc/")) {
    let names: string[];
    try {
      names = decodeURIComponent(pathname.slice("/api/trpc/".length)).split(",");
    } catch {
      names = [];
    }
    const valid = [...new Set(names.filter((n) => PROCEDURE.test(n)))].slice(0, MAX_PROCEDURES);
    return valid.length ? valid : ["trpc.unknown"];
  }
  const auth = /^\/api\/auth\/([^/]+)/.exec(pathname)?.[1];
  if (auth === "callback" || auth === "signin") return ["auth.sign_in"];
  if (auth === "signout") return ["auth.sign_out"];
  if (auth) return [PROCEDURE.test(auth) ? `auth.${auth}` : "auth.unknown"];
  // Outside /api/, a state-changing request to a page is a Next server action.
  return [pathname.startsWith("/api/") ? "http.request" : "server_action"];
}

export interface Refusal {
  cookieHeader: string | null | undefined;
  meta: RequestMeta;
  actions: string[];
  errorMessage: string;
  params: Record<string, unknown>;
}

/** Writes one denied event per action, with the signed-in user (if the cookie names one) as the actor. */
export async function recordRefusal(db: Db, refusal: Refusal): Promise<void> {
  const actor = actorOf(await viewerFromCookie(db, refusal.cookieHeader ?? undefined).catch(() => null));
  for (const action of refusal.actions) {
    await writeAudit(db, {
      actor,
      action,
      outcome: "denied",
      params: refusal.params,
      errorMessage: refusal.errorMessage,
      request: refusal.meta,
    });
  }
}

function refusalParams(evidence: OriginEvidence, pathname: string): Record<string, unknown> {
  return {
    method: evidence.method.slice(0, 16),
    path: pathname.slice(0, 300),
    origin: evidence.origin?.slice(0, 200) ?? null,
    secFetchSite: evidence.secFetchSite?.slice(0, 40) ?? null,
  };
}

export function refusalBody(message: string, requestId: string | null, code = "FORBIDDEN"): string {
  return JSON.stringify({ error: { code, message, requestId } });
}

const header = (req: IncomingMessage, name: string): string | null => {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
};

export interface CrossOriginGuardOptions {
  settings: OriginSettings;
  db: () => Db;
  /** At most this much of a refused body is read (so the client can read the answer). */
  maxBodyBytes: number;
  log: (line: string) => void;
}

/**
 * For the gateway's HTTP server: answers 403 (and audits it) to a request
 * that may change state with the session cookie but doesn't come from this
 * console; returns whether it did.
 */
export function createCrossOriginGuard(options: CrossOriginGuardOptions) {
  return function refuseCrossOriginRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (isSafeMethod(req.method)) return false;
    const pathname = pathnameOf(req.url);
    if (TOKEN_API.test(pathname)) return false;
    const evidence: OriginEvidence = {
      method: req.method ?? "POST",
      origin: header(req, "origin"),
      secFetchSite: header(req, "sec-fetch-site"),
      host: header(req, "host"),
    };
    const verdict = judgeOrigin(evidence, options.settings);
    if (verdict.ok) return false;

    const meta = requestMetaFrom({ get: (name: string) => header(req, name) });
    const message = `Cross-origin request refused: ${verdict.reason}.`;
    drainRefused(req, res, options.maxBodyBytes);
    const answer = () => {
      if (res.headersSent) return;
      res.writeHead(403, { "content-type": "application/json" });
      res.end(refusalBody(message, meta.requestId));
    };
    // Audited before the answer goes out; refused even if the record can't be written.
    recordRefusal(options.db(), {
      cookieHeader: header(req, "cookie"),
      meta,
      actions: auditActionsFor(pathname),
      errorMessage: message,
      params: refusalParams(evidence, pathname),
    })
      .catch((e: unknown) => options.log(`request ${meta.requestId}: could not audit a cross-origin refusal: ${e instanceof Error ? e.message : String(e)}`))
      .finally(answer);
    return true;
  };
}

/**
 * For a route handler that is a GET yet acts (the audit export writes an
 * event and hands out the log): a 403 Response (audited) when the request
 * doesn't come from this console, else null.
 */
export async function refuseCrossOrigin(
  req: Request,
  context: { db: Db; settings: OriginSettings; actions: string[] },
): Promise<Response | null> {
  const evidence: OriginEvidence = {
    method: req.method,
    origin: req.headers.get("origin"),
    secFetchSite: req.headers.get("sec-fetch-site"),
    host: req.headers.get("host"),
  };
  const verdict = judgeOrigin(evidence, context.settings);
  if (verdict.ok) return null;
  const meta = requestMetaFrom(req.headers);
  const message = `Cross-origin request refused: ${verdict.reason}.`;
  await recordRefusal(context.db, {
    cookieHeader: req.headers.get("cookie"),
    meta,
    actions: context.actions,
    errorMessage: message,
    params: refusalParams(evidence, new URL(req.url).pathname),
  });
  return new Response(refusalBody(message, meta.requestId), { status: 403, headers: { "content-type": "application/json" } });
}
