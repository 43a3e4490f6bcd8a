import type { Env } from "../env";

// What "this console's own origin" means, decided in one place: where a
// sign-in may send the browser next, and which requests carrying the session
// cookie may change state (tRPC mutations, server actions, Auth.js posts, the
// audit export, the exec terminal). Pure: no Next, no database.

type OriginSettings = Pick<Env, "BERTH_PUBLIC_URL" | "HOST" | "PORT">;

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
