import "server-only";
import { decode } from "next-auth/jwt";
import type { Viewer } from "../auth/access";
import { viewerForSession } from "../auth/sessions";
import type { Db } from "../db";

// The pipeline's authenticate step for session-cookie requests that never
// reach Next (the exec terminal's WebSocket upgrade, a refused cross-origin
// request being audited): the signed-in viewer, found exactly as Auth.js
// finds it. The session cookie holds a JWE encrypted with a key derived from
// AUTH_SECRET and the cookie's name (the salt); its `sid` names a Session
// row, which viewerForSession checks (expiry, disabled user) and turns into
// the user's grants.

/** Auth.js's session cookie: `__Secure-` prefixed when the console is served over HTTPS. */
export const SESSION_COOKIE_NAMES = ["__Secure-authjs.session-token", "authjs.session-token"] as const;
/** A session cookie is one JWE of a few hundred bytes; Auth.js chunks above ~4 KB. Refuse absurd ones. */
const MAX_TOKEN_CHARS = 16 * 1024;

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // Left as sent.
    }
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** The token under `name`, whole or reassembled from Auth.js's chunks (`name.0`, `name.1`, …). */
export function sessionTokenFrom(cookies: Map<string, string>, name: string): string | null {
  const whole = cookies.get(name);
  if (whole) return whole;
  const chunks: [number, string][] = [];
  for (const [k, v] of cookies) {
    const m = k.startsWith(`${name}.`) ? /^\d{1,3}$/.exec(k.slice(name.length + 1)) : null;
    if (m && v) chunks.push([Number(m[0]), v]);
  }
  if (!chunks.length) return null;
  return chunks.sort((a, b) => a[0] - b[0]).map(([, v]) => v).join("");
}

/** AUTH_SECRET plus rotated AUTH_SECRET_1..3, newest first, as Auth.js reads them. */
function authSecrets(source: Record<string, string | undefined> = process.env): string[] {
  const secrets: string[] = [];
  if (source.AUTH_SECRET) secrets.push(source.AUTH_SECRET);
  for (const i of [1, 2, 3]) {
    const s = source[`AUTH_SECRET_${i}`];
    if (s) secrets.unshift(s);
  }
  return secrets;
}

/** The Session id in the request's Auth.js cookie, or null (no cookie, not ours, expired, tampered). */
export async function sessionIdFromCookie(cookieHeader: string | undefined): Promise<string | null> {
  const secrets = authSecrets();
  // Fail closed: without the secret nothing can be verified.
  if (!secrets.length) return null;
  const cookies = parseCookies(cookieHeader);
  for (const name of SESSION_COOKIE_NAMES) {
    const token = sessionTokenFrom(cookies, name);
    if (!token || token.length > MAX_TOKEN_CHARS) continue;
    try {
      const payload = await decode({ token, secret: secrets, salt: name });
      if (payload && typeof payload.sid === "string" && payload.sid) return payload.sid;
    } catch {
      // Not decryptable with our secret, or expired: try the other name.
    }
  }
  return null;
}

export async function viewerFromCookie(db: Db, cookieHeader: string | undefined): Promise<Viewer | null> {
  const sid = await sessionIdFromCookie(cookieHeader);
  return sid ? viewerForSession(db, sid) : null;
}
