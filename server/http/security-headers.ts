import "server-only";
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { publicOrigin, type OriginSettings } from "./same-origin";

// The security headers on every response the gateway sends (pages, APIs,
// errors, static files, the Docker-API proxy), set by its HTTP server before
// anything else answers.
//
// The Content-Security-Policy allows scripts from this origin and inline
// scripts carrying the response's nonce only: Next puts the nonce on its own
// inline scripts when it finds it in the request's Content-Security-Policy
// header (which the server sets on the request for Next to read), and the root
// layout reads CSP_NONCE_HEADER for the theme script. Styles may be inline
// (React style attributes; xterm writes a <style> element). frame-ancestors
// 'none' (and X-Frame-Options for older browsers) keeps the console out of
// other sites' frames: no clickjacking.

/** Request header carrying the response's script nonce to the root layout; a client's copy is replaced. */
export const CSP_NONCE_HEADER = "x-berth-csp-nonce";

export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    // Next's dev server evaluates modules for hot reloading; production never needs eval.
    `script-src 'self' 'nonce-${nonce}'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // 'self' covers ws:/wss: to this host (the exec terminal).
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export interface SecurityHeaderOptions {
  settings: OriginSettings;
  dev: boolean;
}

export interface AppliedPolicy {
  csp: string;
  nonce: string;
}

export function createSecurityHeaders(options: SecurityHeaderOptions) {
  // HSTS only when browsers reach the console over https: on plain http it means nothing, and it would
  // pin a name that may later serve something else over http.
  const https = publicOrigin(options.settings).startsWith("https:");
  const fixed: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    ...(https ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
  return {
    /**
     * Gives a response these headers as defaults, added when its head is
     * written unless it set its own (the REST reference page sends a stricter
     * policy): set now, they would win, as Next keeps a header already set over
     * the one a route handler returns. Returns the policy and its nonce.
     */
    apply(res: ServerResponse): AppliedPolicy {
      const nonce = randomBytes(16).toString("base64");
      const csp = contentSecurityPolicy(nonce, options.dev);
      const defaults: [string, string][] = [...Object.entries(fixed), ["content-security-policy", csp]];
      const writeHead = res.writeHead;
      // Every way a head goes out (writeHead, or the implicit head of write/end/flushHeaders) passes here.
      res.writeHead = function withSecurityHeaders(this: ServerResponse, ...args: unknown[]) {
        for (const [name, value] of defaults) if (!this.hasHeader(name)) this.setHeader(name, value);
        return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as ServerResponse["writeHead"];
      return { csp, nonce };
    },
    /**
     * For a request Next will answer: Next reads the nonce from the request's
     * Content-Security-Policy header, the root layout from CSP_NONCE_HEADER.
     * Whatever the client sent under these names is replaced.
     */
    handToNext(req: IncomingMessage, policy: AppliedPolicy): void {
      req.headers["content-security-policy"] = policy.csp;
      delete req.headers["content-security-policy-report-only"];
      req.headers[CSP_NONCE_HEADER] = policy.nonce;
    },
  };
}
