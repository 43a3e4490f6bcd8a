import "server-only";
// The Docker-API proxy's request paths: `/api/docker/<host>[/v1.NN]/<docker path>`.
// Parsed strictly, before anything is matched: a path that could mean two
// things (dot segments, doubled slashes, backslashes, any percent-encoding,
// control characters) is refused, never "cleaned up", so what the endpoint
// table judges is exactly what the agent will route.

export const DOCKER_PROXY_PREFIX = "/api/docker/";

/** A host's id (cuid) or name, as one path segment. */
const HOST_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const API_VERSION = /^v(\d{1,2})\.(\d{1,3})$/;
/**
 * RFC 3986 path characters only (unreserved, sub-delims, ":" and "@", and "/").
 * Anything else — "#", "?", "[", "]", quotes, "<", ">", "^", "`", "{", "|", "}" —
 * either ends the path for a URL parser (the agent's `new URL()`) or is
 * re-encoded by it, so the path judged would not be the path routed.
 */
const SAFE_PATH_CHARS = /^[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;
const MAX_URL_CHARS = 8192;

export interface ProxyPath {
  /** The `<host>` segment: a host id or name. */
  hostRef: string;
  /** "1.43" when the client sent `/v1.43`, else null. */
  apiVersion: string | null;
  /** The Docker API path without the version, e.g. "/containers/json". Never empty, starts with "/". */
  path: string;
  /** The raw query string, with its "?" ("" when there is none). */
  search: string;
}

export type PathResult = { ok: true; value: ProxyPath } | { ok: false; message: string };

export function isDockerProxyUrl(url: string | undefined): boolean {
  return typeof url === "string" && (url.startsWith(DOCKER_PROXY_PREFIX) || url === DOCKER_PROXY_PREFIX.slice(0, -1));
}

const refuse = (message: string): PathResult => ({ ok: false, message });

/** Splits and checks a request target (`req.url`) under /api/docker/. */
export function parseProxyPath(url: string): PathResult {
  if (url.length > MAX_URL_CHARS) return refuse(`request path is longer than ${MAX_URL_CHARS} characters`);
  const q = url.indexOf("?");
  const rawPath = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? "" : url.slice(q);
  if (!rawPath.startsWith(DOCKER_PROXY_PREFIX)) return refuse("not a Docker-API proxy path: expected /api/docker/<host>/…");
  if (rawPath.includes("%")) return refuse("percent-encoded characters are not allowed in the request path");
  if (rawPath.includes("\\")) return refuse("backslashes are not allowed in the request path");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(rawPath)) return refuse("control characters and spaces are not allowed in the request path");
  if (!SAFE_PATH_CHARS.test(rawPath)) return refuse("only RFC 3986 path characters (A-Z a-z 0-9 . _ ~ ! $ & ' ( ) * + , ; = : @ / -) are allowed in the request path");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(search) || search.includes("#")) return refuse("control characters are not allowed in the query string");

  const rest = rawPath.slice(DOCKER_PROXY_PREFIX.length);
  const segments = rest.split("/");
  // A trailing slash leaves one empty last segment; an empty one anywhere else is a `//`.
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  for (const s of segments) {
    if (s === "") return refuse("empty path segments (//) are not allowed");
    if (s === "." || s === "..") return refuse("dot segments (. and ..) are not allowed in the request path");
  }
  const [hostRef = "", ...apiSegments] = segments;
  if (!HOST_REF.test(hostRef)) return refuse("the host must be a host id or name: /api/docker/<host>/…");

  let apiVersion: string | null = null;
  const version = apiSegments[0] !== undefined ? API_VERSION.exec(apiSegments[0]) : null;
  if (version) {
    apiVersion = `${Number(version[1])}.${Number(version[2])}`;
    apiSegments.shift();
  }
  if (apiSegments.length === 0) return refuse("no Docker API path after the host: /api/docker/<host>/_ping, …");
  return { ok: true, value: { hostRef, apiVersion, path: `/${apiSegments.join("/")}`, search } };
}

/** The path the agent gets: the client's API version kept, the gateway prefix gone. */
export function agentPathOf(p: ProxyPath): string {
  return `${p.apiVersion ? `/v${p.apiVersion}` : ""}${p.path}${p.search}`;
}

/**
 * The agent path, but only when the agent will route exactly what was judged:
 * it is parsed as the agent parses it (`new URL(path, base)`, agent/api/server.ts)
 * and refused unless the pathname is the judged path (version prefix included)
 * and the query string the judged one. Null when they differ.
 */
export function checkedAgentPath(p: ProxyPath): string | null {
  const agentPath = agentPathOf(p);
  let url: URL;
  try {
    url = new URL(agentPath, "http://agent");
  } catch {
    return null;
  }
  const judgedPath = `${p.apiVersion ? `/v${p.apiVersion}` : ""}${p.path}`;
  const judgedSearch = p.search === "?" ? "" : p.search;
  if (url.origin !== "http://agent" || url.pathname !== judgedPath || url.search !== judgedSearch || url.hash !== "") return null;
  return agentPath;
}
