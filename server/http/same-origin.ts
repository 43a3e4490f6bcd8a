import "server-only";
import type { Env } from "../env";

// What "this console's own origin" means, decided in one place: where a
// sign-in may send the browser next, and which requests carrying the session
// cookie may change state (tRPC mutations, server actions, Auth.js posts, the
// audit export, the exec terminal). Pure: no Next, no database.

export type OriginSettings = Pick<Env, "BERTH_PUBLIC_URL" | "HOST" | "PORT">;

/** The console's public origin: BERTH_PUBLIC_URL's, or http://HOST:PORT's as server/main.ts prints it. */
export function publicOrigin(settings: OriginSettings): string {
  if (settings.BERTH_PUBLIC_URL) return new URL(settings.BERTH_PUBLIC_URL).origin;
  const host = settings.HOST.includes(":") ? `[${settings.HOST}]` : settings.HOST;
  return new URL(`http://${host}:${settings.PORT}`).origin;
}

/** C0 controls, DEL and C1 controls: URL parsers drop or mangle them, so `/\t/evil` becomes `//evil`. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_PATH_CHARS = 2048;
/** How many layers of percent-encoding are looked through before giving up (and refusing). */
const MAX_DECODES = 3;

/** A path that a browser (or a later decoding step) could take for another host. */
function looksOffsite(path: string): boolean {
  return !path.startsWith("/") || path.startsWith("//") || path.includes("\\") || CONTROL.test(path);
}

/**
 * `raw` as a path on `origin` (pathname + search + hash), or null when it
 * isn't plainly one. Refused: anything not starting with exactly one "/",
 * backslashes (browsers read `/\evil` as `//evil`), control characters, any
 * scheme, and the same tricks percent-encoded (up to three layers deep);
 * finally it must resolve, with the URL API, to `origin` itself.
 */
export function sameOriginPath(raw: unknown, origin: string): string | null {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_PATH_CHARS) return null;
  if (looksOffsite(raw)) return null;
  let decoded = raw;
  for (let layer = 0; ; layer++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return null;
    }
    if (next === decoded) break;
    if (layer === MAX_DECODES || looksOffsite(next)) return null;
    decoded = next;
  }
  let url: URL;
  try {
    url = new URL(raw, origin);
  } catch {
    return null;
  }
  if (url.origin !== new URL(origin).origin) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** What a request says about where it comes from. */
export interface OriginEvidence {
  method: string;
  /** The Origin header, if any. */
  origin: string | null | undefined;
  /** The Sec-Fetch-Site header, if any. */
  secFetchSite: string | null | undefined;
  /** The Host header: the name the browser addressed. */
  host: string | null | undefined;
}

export type OriginVerdict = { ok: true } | { ok: false; reason: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The origins a request may come from. With BERTH_PUBLIC_URL set, exactly
 * its origin: the administrator named the console. Without it, the default
 * (http://HOST:PORT) and the host:port the browser addressed (Host), over http
 * or https: only this server listens there (a TLS proxy may sit in front), and
 * a page under another name can't send this console's host-bound cookies.
 */
export function acceptedOrigins(settings: OriginSettings, requestHost: string | null | undefined): Set<string> {
  const accepted = new Set<string>([publicOrigin(settings)]);
  if (settings.BERTH_PUBLIC_URL || !requestHost) return accepted;
  for (const scheme of ["http", "https"]) {
    try {
      accepted.add(new URL(`${scheme}://${requestHost}`).origin);
    } catch {
      // A malformed Host adds nothing.
    }
  }
  return accepted;
}

/**
 * Whether a request that acts with the session cookie comes from this
 * console's own pages. The Origin header decides when present (browsers send
 * it on every POST); else Sec-Fetch-Site: "same-origin", or "none" (typed in,
 * bookmarked) for a safe method. A request with neither is refused: checks fail
 * closed, and every browser this console supports sends one or the other.
 */
export function judgeOrigin(evidence: OriginEvidence, settings: OriginSettings): OriginVerdict {
  const origin = evidence.origin?.trim();
  if (origin) {
    if (origin === "null") return { ok: false, reason: "it comes from an opaque origin (Origin: null)" };
    let parsed: string;
    try {
      parsed = new URL(origin).origin;
    } catch {
      return { ok: false, reason: "its Origin header is malformed" };
    }
    if (parsed !== "null" && acceptedOrigins(settings, evidence.host).has(parsed)) return { ok: true };
    return { ok: false, reason: `it comes from ${parsed.slice(0, 200)}, not from this console` };
  }
  const site = evidence.secFetchSite?.trim().toLowerCase();
  if (site === "same-origin") return { ok: true };
  if (site === "none" && SAFE_METHODS.has(evidence.method.toUpperCase())) return { ok: true };
  if (site) return { ok: false, reason: `it was sent from ${site === "none" ? "outside any page" : `a ${site} page`} (Sec-Fetch-Site: ${site.slice(0, 40)})` };
  return { ok: false, reason: "it carries neither an Origin nor a Sec-Fetch-Site header to show it comes from this console" };
}

/** Methods that never change state here, so a cross-origin one needs no judging (the export is the exception, judged by its route). */
export function isSafeMethod(method: string | undefined): boolean {
  return SAFE_METHODS.has((method ?? "GET").toUpperCase());
}
