import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";

// URL rules resolve "." and ".." segments (also when written %2e / %2E) before
// Next's route handlers see a path, so `/api/v1/hosts/%2e%2e/containers`
// would be served as `/api/v1/containers`: a request would reach another
// handler than the one its path names. And a "#" ends a path for a URL parser
// while Node hands the raw target over unchanged. The gateway refuses such
// request targets under /api/ before Next is asked, with the REST API's JSON
// error format, instead of "cleaning them up".

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** The raw request target's path (before "?"), or the whole target when it has no query. */
function rawPathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** Whether a request target goes to /api/ as written, or once a URL parser has resolved it. */
function isUnderApi(url: string): boolean {
  if (url.startsWith("/api/") || url === "/api") return true;
  try {
    const resolved = new URL(url, "http://gateway").pathname;
    return resolved.startsWith("/api/") || resolved === "/api";
  } catch {
    return false;
  }
}

/**
 * Why a request target must not be handed to Next, or null when it may.
 * Only targets under /api/ (as written or as resolved) are judged.
 */
export function ambiguousApiPath(url: string | undefined): string | null {
  if (typeof url !== "string" || !isUnderApi(url)) return null;
  if (url.includes("#")) return "a '#' is not allowed in an API request path";
  // URL parsers treat "\" as "/" in http(s) URLs: split on both.
  for (const segment of rawPathOf(url).split(/[/\\]/)) {
    if (DOT_SEGMENT.test(segment)) return "dot segments (. and .., also %2e-encoded) are not allowed in an API request path";
  }
  return null;
}

/** Answers 404 in the REST error format when the target is ambiguous; true when it answered. */
export function refuseAmbiguousApiPath(req: IncomingMessage, res: ServerResponse, requestId: string): boolean {
  const why = ambiguousApiPath(req.url);
  if (why === null) return false;
  const body = JSON.stringify({ error: { code: "NOT_FOUND", message: `Not found: ${why}.`, requestId } });
  // The body (if any) is not read: the connection is not reused.
  res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
  res.end(body);
  req.resume();
  return true;
}
